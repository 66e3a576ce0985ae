-- tessdb-server compatibility views: the names and columns its users' report queries rely on.
-- tess_readings_t attributes each reading to the photometer version valid at its time, through the
-- name mapping valid at that time (design.md §1).

CREATE VIEW date_t AS
SELECT to_char(d, 'YYYYMMDD')::integer                        AS date_id,
       d::date                                                AS date,
       to_char(d, 'YYYY-MM-DD')                               AS sql_date,
       extract(day FROM d)::integer                           AS day,
       extract(doy FROM d)::integer                           AS day_year,
       (d::date - date '1970-01-01') + 2440587.5              AS julian_day,
       trim(to_char(d, 'Day'))                                AS weekday,
       to_char(d, 'Dy')                                       AS weekday_abbr,
       extract(isodow FROM d)::integer                        AS weekday_num,
       extract(month FROM d)::integer                         AS month_num,
       trim(to_char(d, 'Month'))                              AS month,
       to_char(d, 'Mon')                                      AS month_abbr,
       extract(year FROM d)::integer                          AS year
FROM generate_series(timestamp '2010-01-01', timestamp '2040-12-31', interval '1 day') AS d;

CREATE VIEW time_t AS
SELECT (h * 10000 + m * 100 + s)                              AS time_id,
       lpad(h::text, 2, '0') || ':' || lpad(m::text, 2, '0') || ':' || lpad(s::text, 2, '0') AS time,
       h AS hour, m AS minute, s AS second,
       (h * 3600 + m * 60 + s) / 86400.0                      AS day_fraction
FROM generate_series(0, 23) AS h, generate_series(0, 59) AS m, generate_series(0, 59) AS s;

CREATE VIEW location_t AS
SELECT location_id, site, place AS location, province, country, longitude, latitude, elevation,
       zipcode, timezone, contact_person AS contact_name, contact_email, organization
FROM locations;

CREATE VIEW name_to_mac_t AS
SELECT name, mac_address, valid_since, valid_until, valid_state FROM name_to_mac;

CREATE VIEW tess_t AS
SELECT p.tess_id, p.mac_address,
       (SELECT m.name FROM name_to_mac m
         WHERE m.mac_address = p.mac_address AND m.valid_since < p.valid_until AND m.valid_until > p.valid_since
         ORDER BY m.valid_since DESC LIMIT 1)                 AS name,
       p.zp1 AS zero_point, p.filter1 AS filter, p.azimuth, p.altitude, p.fov, p.cover_offset,
       0 AS channel, p.model, p.firmware, p.nchannels, p.zp1, p.zp2, p.zp3, p.zp4,
       p.filter1, p.filter2, p.filter3, p.filter4, p.offset1 AS offset_freq,
       p.location_id, p.observer_id, p.authorised::integer AS authorised, p.registered,
       p.valid_since, p.valid_until, p.valid_state
FROM photometers p;

CREATE VIEW tess_v AS
SELECT t.*, l.site, l.location, l.province, l.country, l.longitude, l.latitude, l.elevation,
       l.zipcode, l.timezone, l.contact_name, l.contact_email, l.organization
FROM tess_t t JOIN location_t l USING (location_id);

CREATE VIEW tess_readings_t AS
SELECT p.tess_id,
       to_char(r.tstamp AT TIME ZONE 'UTC', 'YYYYMMDD')::integer  AS date_id,
       to_char(r.tstamp AT TIME ZONE 'UTC', 'HH24MISS')::integer  AS time_id,
       p.location_id, p.observer_id, 0 AS units_id,
       r.seq AS sequence_number, r.freq AS frequency, r.mag AS magnitude,
       r.tamb AS ambient_temperature, r.tsky AS sky_temperature,
       r.azimuth, r.altitude, r.longitude, r.latitude, r.height, r.wdbm AS signal_strength,
       r.tstamp_src::text AS tstamp_src, r.load_src::text AS load_src,
       r.freq2, r.mag2, r.freq3, r.mag3, r.freq4, r.mag4,
       r.tstamp, n.name
FROM readings r
JOIN names n USING (name_id)
JOIN name_to_mac m ON m.name = n.name AND r.tstamp >= m.valid_since AND r.tstamp < m.valid_until
JOIN photometers p ON p.mac_address = m.mac_address AND r.tstamp >= p.valid_since AND r.tstamp < p.valid_until;
