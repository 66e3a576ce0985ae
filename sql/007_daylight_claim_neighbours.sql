-- tessdb schema, version 7: a daylight claim reads the stored neighbours of the range it claims.
--
-- With version 6, file ingest asked for the neighbours of each clean name's range (daylight_neighbours)
-- in a statement of its own after its last COPY, on the path of every file to COMMIT. The neighbours
-- are rows outside the range; once the claim holds the name's lock, no other transaction can store
-- rows of that name, so they can be read with the claim itself, before the COPY.
--
-- A claim is now two statements sent together (src/filter/daylight-claims.ts): daylight_lock takes the
-- per-name locks daylight_refresh takes, without waiting, and returns the names whose lock is held
-- elsewhere; the next statement, in a new snapshot that sees what was committed before the locks were
-- ours, looks for stored rows in each range and reads the up to 6 stored rows on each side of it.

DROP FUNCTION daylight_neighbours(integer[], timestamptz[], timestamptz[]);
DROP FUNCTION daylight_claim(integer[], timestamptz[], timestamptz[], timestamptz[]);

-- Never waiting, a claim cannot take part in a deadlock.
CREATE FUNCTION daylight_lock(p_ids integer[]) RETURNS integer[]
LANGUAGE sql
AS $$
    SELECT coalesce(array_agg(u.id), '{}') FROM unnest(p_ids) AS u(id) WHERE NOT pg_try_advisory_xact_lock(2119555842, u.id)
$$;
