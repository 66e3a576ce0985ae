/**
 * How many more connections the server would accept now: its `max_connections`, less the slots kept for
 * superusers (unless we are one), less the sessions already open — ours included. The per-role and
 * per-database limits count too (not for a superuser, as for Postgres). A guess (other clients come and go), good enough to size parallel work
 * below "sorry, too many clients already".
 */
import type pg from 'pg';

export async function connectionRoom(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ room: number }>(
    `SELECT least(
              current_setting('max_connections')::int
                - CASE WHEN r.rolsuper THEN 0 ELSE current_setting('superuser_reserved_connections')::int END
                - (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int,
              CASE WHEN r.rolconnlimit >= 0 AND NOT r.rolsuper THEN r.rolconnlimit - (SELECT count(*) FROM pg_stat_activity a WHERE a.usename = current_user)::int END,
              CASE WHEN d.datconnlimit >= 0 AND NOT r.rolsuper THEN d.datconnlimit - (SELECT count(*) FROM pg_stat_activity a WHERE a.datname = current_database())::int END
            ) AS room
       FROM pg_roles r, pg_database d
      WHERE r.rolname = current_user AND d.datname = current_database()`,
  );
  return Math.max(0, rows[0].room);
}
