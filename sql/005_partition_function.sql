-- tessdb schema, version 5: monthly partitions of readings created through a function that runs with the
-- schema owner's rights. PostgreSQL lets only the owner of `readings` attach a partition, so without it a
-- loader logged in with the optional read-write role (<prefix>_rw, `tessdb setup --roles`) failed on the
-- first reading of a new month. The function does one thing, checks its argument, and is executable only
-- by the owner and the roles `tessdb setup --roles` grants it to.

CREATE FUNCTION tessdb_ensure_partition(month text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path FROM CURRENT
AS $$
DECLARE
    s          text := current_schema();
    first_day  date;
BEGIN
    IF month IS NULL OR month !~ '^[0-9]{6}$' THEN
        RAISE EXCEPTION 'tessdb_ensure_partition: month must be YYYYMM, got %', month USING ERRCODE = '22023';
    END IF;
    first_day := to_date(month, 'YYYYMM');
    -- Qualified names: a temporary table cannot stand in for readings (pg_temp precedes the search path).
    EXECUTE format('CREATE TABLE IF NOT EXISTS %I.%I PARTITION OF %I.readings FOR VALUES FROM (%L) TO (%L)',
                   s, 'readings_' || month, s,
                   to_char(first_day, 'YYYY-MM-DD') || ' 00:00:00+00',
                   to_char((first_day + interval '1 month')::date, 'YYYY-MM-DD') || ' 00:00:00+00');
END;
$$;

REVOKE ALL ON FUNCTION tessdb_ensure_partition(text) FROM PUBLIC;
