-- tessdb schema, version 7: a daylight claim returns the stored neighbours of the range it claims.
--
-- With version 6, file ingest asked for the neighbours of each clean name's range (daylight_neighbours)
-- in a statement of its own after its last COPY, on the path of every file to COMMIT. The neighbours
-- are rows outside the range; once the claim holds the name's lock, no other transaction can store
-- rows of that name, so they can be read with the claim itself, before the COPY. One statement per
-- batch instead of two, and nothing between the last COPY and COMMIT but the flags that changed.
--
-- daylight_claim(ids, lo, hi, after) now returns, per name:
--   'l'  its lock is held by another transaction (it gets the full daylight_refresh);
--   'o'  stored rows in the part of the range not claimed before (after, hi] or [lo, hi]: duplicates
--        are possible and it gets the full refresh;
--   'b'  for a first claim (after is NULL) of a free, empty range: the up to 6 stored rows before lo,
--        nearest first;
--   'a'  for a free, empty range: the up to 6 stored rows after hi, nearest first.
-- src/filter/daylight-claims.ts decides the flags within 3 rows of each end from them and the
-- loader's own first and last rows.

DROP FUNCTION daylight_neighbours(integer[], timestamptz[], timestamptz[]);
DROP FUNCTION daylight_claim(integer[], timestamptz[], timestamptz[], timestamptz[]);

CREATE FUNCTION daylight_claim(p_ids integer[], p_lo timestamptz[], p_hi timestamptz[], p_after timestamptz[])
RETURNS TABLE (name_id integer, place "char", tstamp text, saturated boolean, daylight boolean)
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
    busy integer[];
BEGIN
    -- Never waiting, a claim cannot take part in a deadlock.
    SELECT coalesce(array_agg(u.id), '{}') INTO busy
      FROM unnest(p_ids) AS u(id)
     WHERE NOT pg_try_advisory_xact_lock(2119555842, u.id);
    -- A new statement, hence a new snapshot: it sees what was committed before the locks were ours.
    RETURN QUERY
    WITH c AS MATERIALIZED (
        SELECT u.id, u.lo, u.hi, u.after, u.id = ANY (busy) AS locked,
               coalesce((SELECT r.tstamp FROM readings r
                          WHERE r.name_id = u.id AND r.tstamp > coalesce(u.after, u.lo - interval '1 microsecond')
                          ORDER BY r.tstamp LIMIT 1) <= u.hi, false) AS occupied
          FROM unnest(p_ids, p_lo, p_hi, p_after) AS u(id, lo, hi, after)
    )
    SELECT c.id, 'l'::"char", NULL::text, NULL::boolean, NULL::boolean FROM c WHERE c.locked
    UNION ALL
    SELECT c.id, 'o'::"char", NULL::text, NULL::boolean, NULL::boolean FROM c WHERE c.occupied
    UNION ALL
    SELECT c.id, 'b'::"char", x.tstamp::text, coalesce(x.mag = 0, false), x.daylight
      FROM c CROSS JOIN LATERAL (
           SELECT r.tstamp, r.mag, r.daylight FROM readings r
            WHERE r.name_id = c.id AND r.tstamp < c.lo ORDER BY r.tstamp DESC LIMIT 6) AS x
     WHERE c.after IS NULL AND NOT c.locked AND NOT c.occupied
    UNION ALL
    SELECT c.id, 'a'::"char", x.tstamp::text, coalesce(x.mag = 0, false), x.daylight
      FROM c CROSS JOIN LATERAL (
           SELECT r.tstamp, r.mag, r.daylight FROM readings r
            WHERE r.name_id = c.id AND r.tstamp > c.hi ORDER BY r.tstamp LIMIT 6) AS x
     WHERE NOT c.locked AND NOT c.occupied;
END
$$;
