-- tessdb schema, version 4: administration history, the daylight flag, and settings the views read.
-- See docs/schema.md and docs/admin.md.

-- ---------------------------------------------------------------------------------------------------
-- Settings: small key/value table written by `tessdb setup`, `ingest`/`backfill` and `live` from the
-- configuration, so that SQL users (views, Grafana) see what the configuration says.
-- ---------------------------------------------------------------------------------------------------

CREATE TABLE settings (
    key         text PRIMARY KEY,
    value       text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO settings (key, value) VALUES ('filter.daylight', 'drop');

-- ---------------------------------------------------------------------------------------------------
-- Daylight flag (tessdb-server's sunrise/sunset filter, window 7): TRUE when the reading and its 3
-- neighbours on each side (same name, ordered by tstamp) are all saturated (mag = 0). Every reading
-- is kept; the flag is a function of the stored readings only, recomputed by daylight_refresh()
-- around the readings each load adds. Nullable (NULL = not computed = not daylight) so that the
-- loader's staging table (CREATE TABLE ... (LIKE readings)) accepts rows without it.
-- ---------------------------------------------------------------------------------------------------

ALTER TABLE readings ADD COLUMN daylight boolean DEFAULT false;

-- Recompute the flag of every reading whose value can depend on readings of `p_names[i]` in
-- [p_from[i], p_to[i]]: the readings in that range and up to 3 on each side of it (reading up to 6 on
-- each side to decide them). Serialised per name with a transaction advisory lock taken in name_id
-- order, then computed in a fresh snapshot: of two transactions loading readings of the same name
-- concurrently, the one that commits second sees the rows of both. Returns the rows changed.
-- Plan: per name, index probes for the bounds, an index range scan of the window (LATERAL … OFFSET 0)
-- and index lookups for the rows to change; hash and merge joins are disabled inside the function so
-- the planner never turns a batch of a few rows per name into a scan of whole partitions.
CREATE FUNCTION daylight_refresh(p_names text[], p_from timestamptz[], p_to timestamptz[])
RETURNS bigint
LANGUAGE plpgsql
SET search_path FROM CURRENT
SET enable_hashjoin = off
SET enable_mergejoin = off
AS $$
DECLARE
    changed bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(2119555842, x.name_id)
       FROM (SELECT DISTINCT nm.name_id
               FROM unnest(p_names) AS u(name) JOIN names nm ON nm.name = u.name
              ORDER BY 1) AS x;

    WITH req AS MATERIALIZED (
        SELECT nm.name_id, min(u.lo) AS lo, max(u.hi) AS hi
          FROM unnest(p_names, p_from, p_to) AS u(name, lo, hi)
          JOIN names nm ON nm.name = u.name
         GROUP BY nm.name_id
    ), bounds AS MATERIALIZED (
        SELECT q.name_id,
               coalesce((SELECT min(a.t) FROM (SELECT r.tstamp AS t FROM readings r
                          WHERE r.name_id = q.name_id AND r.tstamp < q.lo ORDER BY r.tstamp DESC LIMIT 3) a), q.lo) AS upd_lo,
               coalesce((SELECT min(a.t) FROM (SELECT r.tstamp AS t FROM readings r
                          WHERE r.name_id = q.name_id AND r.tstamp < q.lo ORDER BY r.tstamp DESC LIMIT 6) a), q.lo) AS win_lo,
               coalesce((SELECT max(a.t) FROM (SELECT r.tstamp AS t FROM readings r
                          WHERE r.name_id = q.name_id AND r.tstamp > q.hi ORDER BY r.tstamp LIMIT 3) a), q.hi) AS upd_hi,
               coalesce((SELECT max(a.t) FROM (SELECT r.tstamp AS t FROM readings r
                          WHERE r.name_id = q.name_id AND r.tstamp > q.hi ORDER BY r.tstamp LIMIT 6) a), q.hi) AS win_hi
          FROM req q
    ), flags AS MATERIALIZED (
        SELECT x.name_id, x.tstamp, x.daylight, b.upd_lo, b.upd_hi,
               (count(*) FILTER (WHERE x.mag = 0) OVER w) = 7 AS flag
          FROM bounds b
          CROSS JOIN LATERAL (SELECT r.name_id, r.tstamp, r.mag, r.daylight FROM readings r
                               WHERE r.name_id = b.name_id AND r.tstamp >= b.win_lo AND r.tstamp <= b.win_hi
                              OFFSET 0) x
        WINDOW w AS (PARTITION BY x.name_id ORDER BY x.tstamp ROWS BETWEEN 3 PRECEDING AND 3 FOLLOWING)
    ), changes AS MATERIALIZED (
        SELECT f.name_id, f.tstamp, f.flag FROM flags f
         WHERE f.tstamp >= f.upd_lo AND f.tstamp <= f.upd_hi AND f.daylight IS DISTINCT FROM f.flag
    )
    UPDATE readings r
       SET daylight = c.flag
      FROM changes c
     WHERE r.name_id = c.name_id AND r.tstamp = c.tstamp;
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END
$$;

-- Readings loaded before this migration.
SELECT daylight_refresh(array_agg(name), array_agg('-infinity'::timestamptz), array_agg('infinity'::timestamptz))
  FROM names;

-- tess_readings_t: as in 002, plus the `daylight` column, and without daylight-flagged readings when
-- settings 'filter.daylight' is 'drop'.
CREATE OR REPLACE VIEW tess_readings_t AS
SELECT p.tess_id,
       to_char(r.tstamp AT TIME ZONE 'UTC', 'YYYYMMDD')::integer  AS date_id,
       to_char(r.tstamp AT TIME ZONE 'UTC', 'HH24MISS')::integer  AS time_id,
       p.location_id, p.observer_id, 0 AS units_id,
       r.seq AS sequence_number, r.freq AS frequency, r.mag AS magnitude,
       r.tamb AS ambient_temperature, r.tsky AS sky_temperature,
       r.azimuth, r.altitude, r.longitude, r.latitude, r.height, r.wdbm AS signal_strength,
       r.tstamp_src::text AS tstamp_src, r.load_src::text AS load_src,
       r.freq2, r.mag2, r.freq3, r.mag3, r.freq4, r.mag4,
       r.tstamp, n.name,
       coalesce(r.daylight, false) AS daylight
FROM readings r
JOIN names n USING (name_id)
JOIN name_to_mac m ON m.name = n.name AND r.tstamp >= m.valid_since AND r.tstamp < m.valid_until
JOIN photometers p ON p.mac_address = m.mac_address AND r.tstamp >= p.valid_since AND r.tstamp < p.valid_until
WHERE r.daylight IS NOT TRUE
   OR (SELECT s.value FROM settings s WHERE s.key = 'filter.daylight') IS DISTINCT FROM 'drop';

-- ---------------------------------------------------------------------------------------------------
-- History of locations and observers. `locations` and `observers` hold the current values (what the
-- foreign keys and location_t point at); every insert and change is also recorded here as a version
-- with its validity (SCD type 2), whoever made it (tessdb, an importer or plain SQL). Changes made
-- in one transaction collapse into one version.
-- ---------------------------------------------------------------------------------------------------

CREATE TABLE location_versions (
    location_id  integer NOT NULL,
    site         text NOT NULL,
    data         jsonb NOT NULL,                 -- the whole `locations` row as it was
    valid_since  timestamptz NOT NULL,
    valid_until  timestamptz NOT NULL DEFAULT '2999-12-31T23:59:59Z',
    valid_state  text NOT NULL DEFAULT 'Current' CHECK (valid_state IN ('Current', 'Expired')),
    changed_by   text NOT NULL,
    PRIMARY KEY (location_id, valid_since),
    CHECK (valid_since < valid_until)
);

CREATE TABLE observer_versions (
    observer_id  integer NOT NULL,
    name         text NOT NULL,
    data         jsonb NOT NULL,                 -- the whole `observers` row as it was
    valid_since  timestamptz NOT NULL,
    valid_until  timestamptz NOT NULL DEFAULT '2999-12-31T23:59:59Z',
    valid_state  text NOT NULL DEFAULT 'Current' CHECK (valid_state IN ('Current', 'Expired')),
    changed_by   text NOT NULL,
    PRIMARY KEY (observer_id, valid_since),
    CHECK (valid_since < valid_until)
);

-- Who made a change: `tessdb` sets tessdb.actor to the operating-system user; plain SQL records the
-- database user.
CREATE FUNCTION tessdb_actor() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('tessdb.actor', true), ''), session_user::text)
$$;

CREATE FUNCTION location_versions_record() RETURNS trigger
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND to_jsonb(NEW) = to_jsonb(OLD) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM location_versions WHERE location_id = OLD.location_id AND valid_since >= now();
        UPDATE location_versions SET valid_until = now(), valid_state = 'Expired'
         WHERE location_id = OLD.location_id AND valid_state = 'Current';
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO location_versions (location_id, site, data, valid_since, changed_by)
        VALUES (NEW.location_id, NEW.site, to_jsonb(NEW), now(), tessdb_actor());
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION observer_versions_record() RETURNS trigger
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND to_jsonb(NEW) = to_jsonb(OLD) THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM observer_versions WHERE observer_id = OLD.observer_id AND valid_since >= now();
        UPDATE observer_versions SET valid_until = now(), valid_state = 'Expired'
         WHERE observer_id = OLD.observer_id AND valid_state = 'Current';
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO observer_versions (observer_id, name, data, valid_since, changed_by)
        VALUES (NEW.observer_id, NEW.name, to_jsonb(NEW), now(), tessdb_actor());
    END IF;
    RETURN NULL;
END
$$;

INSERT INTO location_versions (location_id, site, data, valid_since, changed_by)
SELECT l.location_id, l.site, to_jsonb(l), least(l.created_at, now()), tessdb_actor() FROM locations l;
INSERT INTO observer_versions (observer_id, name, data, valid_since, changed_by)
SELECT o.observer_id, o.name, to_jsonb(o), least(o.created_at, now()), tessdb_actor() FROM observers o;

CREATE TRIGGER locations_history AFTER INSERT OR UPDATE OR DELETE ON locations
    FOR EACH ROW EXECUTE FUNCTION location_versions_record();
CREATE TRIGGER observers_history AFTER INSERT OR UPDATE OR DELETE ON observers
    FOR EACH ROW EXECUTE FUNCTION observer_versions_record();
