-- tessdb schema, version 6: the daylight flag recomputed at the edges only, for file ingest.
--
-- daylight_refresh (sql/004) recomputes every flag in the range a load added, reading the whole range
-- back: for an hourly archive that is every row just written, and it cost more database time than the
-- COPY itself. The loader already computes the flags of its own rows (src/filter/daylight-guess.ts);
-- they are exact except within 3 rows of the ends of a name's range, provided the range held no other
-- rows. Hence, per batch and name, before the COPY:
--   daylight_claim: take the per-name lock daylight_refresh takes (without waiting), then, in a new
--   snapshot, look for stored rows in the part of the range not claimed before. A name whose lock is
--   held elsewhere, or whose range holds rows, is reported and gets the full daylight_refresh.
-- and once before COMMIT, for the names that stayed clean:
--   daylight_refresh_edges: recompute the 3 rows on each side of each end of the range.
-- The lock is held to COMMIT, so no other transaction can store rows of a claimed name meanwhile
-- (daylight_refresh, which every loader runs, waits for it), and rows committed before the claim are
-- seen by the claim's second statement. See docs/schema.md.

CREATE FUNCTION daylight_claim(p_ids integer[], p_lo timestamptz[], p_hi timestamptz[], p_after timestamptz[])
RETURNS TABLE (name_id integer, locked boolean, occupied boolean)
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
    -- p_after (exclusive) is the end of the part claimed by earlier batches; NULL for a first claim.
    RETURN QUERY
    SELECT x.id, x.locked, x.occupied
      FROM (SELECT u.id, u.id = ANY (busy) AS locked,
                   EXISTS (SELECT 1 FROM readings r
                            WHERE r.name_id = u.id AND r.tstamp <= u.hi
                              AND r.tstamp > coalesce(u.after, u.lo - interval '1 microsecond')) AS occupied
              FROM unnest(p_ids, p_lo, p_hi, p_after) AS u(id, lo, hi, after)
            OFFSET 0) AS x
     WHERE x.locked OR x.occupied;
END
$$;

-- For each name, the flags that can differ from the loader's: the 3 stored rows before p_lo, the first
-- 3 rows from p_lo, the last 3 rows up to p_hi and the 3 stored rows after p_hi, each decided on its 3
-- neighbours per side (the 6 rows fetched on each side of each end). Returns the rows changed.
CREATE FUNCTION daylight_refresh_edges(p_ids integer[], p_lo timestamptz[], p_hi timestamptz[])
RETURNS bigint
LANGUAGE plpgsql
SET search_path FROM CURRENT
SET enable_hashjoin = off
SET enable_mergejoin = off
AS $$
DECLARE
    changed bigint;
BEGIN
    WITH req AS MATERIALIZED (
        SELECT u.id AS name_id, u.lo, u.hi FROM unnest(p_ids, p_lo, p_hi) AS u(id, lo, hi)
    ), edge AS MATERIALIZED (
        -- head: 6 rows before lo and 6 from lo, candidates the 3 + 3 nearest lo (positions 4..9 of 12);
        -- tail: 6 rows up to hi and 6 after hi, likewise around hi.
        SELECT q.name_id, 'h' AS side, x.tstamp, x.mag, x.daylight, x.near
          FROM req q
          CROSS JOIN LATERAL (
              (SELECT r.tstamp, r.mag, r.daylight, row_number() OVER (ORDER BY r.tstamp DESC) <= 3 AS near
                 FROM readings r WHERE r.name_id = q.name_id AND r.tstamp < q.lo ORDER BY r.tstamp DESC LIMIT 6)
              UNION ALL
              (SELECT r.tstamp, r.mag, r.daylight, row_number() OVER (ORDER BY r.tstamp) <= 3 AS near
                 FROM readings r WHERE r.name_id = q.name_id AND r.tstamp >= q.lo ORDER BY r.tstamp LIMIT 6)
          ) x
        UNION ALL
        SELECT q.name_id, 't', x.tstamp, x.mag, x.daylight, x.near
          FROM req q
          CROSS JOIN LATERAL (
              (SELECT r.tstamp, r.mag, r.daylight, row_number() OVER (ORDER BY r.tstamp DESC) <= 3 AS near
                 FROM readings r WHERE r.name_id = q.name_id AND r.tstamp <= q.hi ORDER BY r.tstamp DESC LIMIT 6)
              UNION ALL
              (SELECT r.tstamp, r.mag, r.daylight, row_number() OVER (ORDER BY r.tstamp) <= 3 AS near
                 FROM readings r WHERE r.name_id = q.name_id AND r.tstamp > q.hi ORDER BY r.tstamp LIMIT 6)
          ) x
    ), flags AS MATERIALIZED (
        SELECT e.name_id, e.tstamp, e.daylight, e.near,
               (count(*) FILTER (WHERE e.mag = 0) OVER w) = 7 AS flag
          FROM edge e
        WINDOW w AS (PARTITION BY e.name_id, e.side ORDER BY e.tstamp ROWS BETWEEN 3 PRECEDING AND 3 FOLLOWING)
    ), changes AS MATERIALIZED (
        SELECT DISTINCT f.name_id, f.tstamp, f.flag FROM flags f
         WHERE f.near AND f.daylight IS DISTINCT FROM f.flag
    )
    UPDATE readings r
       SET daylight = c.flag
      FROM changes c
     WHERE r.name_id = c.name_id AND r.tstamp = c.tstamp;
    GET DIAGNOSTICS changed = ROW_COUNT;
    RETURN changed;
END
$$;
