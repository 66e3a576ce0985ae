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
-- and once before COMMIT, for the names that stayed clean: the flags of the 3 rows on each side of
-- each end of the range are recomputed in the loader from its own first and last rows and the stored
-- neighbours daylight_neighbours returns, and the changed ones updated.
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

-- The up to 6 stored rows of each name just before p_lo and just after p_hi, nearest first: with the
-- loader's own first and last rows, enough to decide the flags within 3 rows of each end of a clean
-- range (src/filter/daylight-claims.ts), which are the only ones that can differ from the loader's.
CREATE FUNCTION daylight_neighbours(p_ids integer[], p_lo timestamptz[], p_hi timestamptz[])
RETURNS TABLE (name_id integer, after boolean, tstamp text, saturated boolean, daylight boolean)
LANGUAGE sql STABLE
SET search_path FROM CURRENT
AS $$
    SELECT q.id, x.after, x.tstamp::text, x.saturated, x.daylight
      FROM unnest(p_ids, p_lo, p_hi) AS q(id, lo, hi)
     CROSS JOIN LATERAL (
           (SELECT false AS after, r.tstamp, coalesce(r.mag = 0, false) AS saturated, r.daylight
              FROM readings r WHERE r.name_id = q.id AND r.tstamp < q.lo ORDER BY r.tstamp DESC LIMIT 6)
           UNION ALL
           (SELECT true, r.tstamp, coalesce(r.mag = 0, false), r.daylight
              FROM readings r WHERE r.name_id = q.id AND r.tstamp > q.hi ORDER BY r.tstamp LIMIT 6)
     ) AS x
$$;
