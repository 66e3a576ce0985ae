/**
 * How many more connections the server would accept now: its `max_connections`, less the slots kept for
 * superusers (and, from PostgreSQL 16, `reserved_connections`) unless we are one, less the sessions already
 * open — ours included. The login's and the database's CONNECTION LIMIT count too (not for a superuser, as
 * for Postgres). A guess (other clients come and go), good enough to size parallel work below "sorry, too
 * many clients already".
 *
 * Sessions are counted by `usesysid` and `datid`, which a role without pg_read_all_stats still sees for
 * other roles' sessions (their `backend_type` it does not); background processes have no database or no user.
 */
import type pg from 'pg';

export async function connectionRoom(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ room: number }>(
    `WITH sessions AS (SELECT usesysid, datid FROM pg_stat_activity WHERE usesysid IS NOT NULL AND datid IS NOT NULL)
     SELECT least(
              current_setting('max_connections')::int
                - CASE WHEN r.rolsuper THEN 0
                       ELSE current_setting('superuser_reserved_connections')::int
                            + coalesce(current_setting('reserved_connections', true)::int, 0) END
                - (SELECT count(*) FROM sessions)::int,
              CASE WHEN r.rolconnlimit >= 0 AND NOT r.rolsuper THEN r.rolconnlimit - (SELECT count(*) FROM sessions s WHERE s.usesysid = r.oid)::int END,
              CASE WHEN d.datconnlimit >= 0 AND NOT r.rolsuper THEN d.datconnlimit - (SELECT count(*) FROM sessions s WHERE s.datid = d.oid)::int END
            ) AS room
       FROM pg_roles r, pg_database d
      WHERE r.rolname = session_user AND d.datname = current_database()`,
  );
  return Math.max(0, rows[0].room);
}
