/** Passwords: read from files with safe permissions or from the environment, and masked for display. */
import fs from 'node:fs';
import { UserError } from '../util/errors.js';

export function readPasswordFile(file: string, key: string): string {
  return readPrivateFile(file, key, 'password file').toString('utf8').replace(/\r?\n$/, '');
}

/** A secret file (password, private key): refused unless only its owner can read it, as libpq and ssh do. */
export function readPrivateFile(file: string, key: string, what = 'private key file'): Buffer {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new UserError(`${key}: ${what} ${file} not found`);
  }
  if ((stat.mode & 0o077) !== 0) {
    throw new UserError(`${key}: ${what} ${file} is readable by group or others (chmod 600 ${file})`);
  }
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new UserError(`${key}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * A configuration file that holds a password (in a URL) must be as private as a password file: refused
 * when group or others can read it. `values` are the file's parsed contents.
 */
export function refuseOpenFileWithPassword(file: string, values: Record<string, unknown>, secretKeys: Iterable<string>): void {
  for (const key of secretKeys) {
    const [section, name] = key.split('.');
    const value = (values[section] as Record<string, unknown> | undefined)?.[name];
    if (typeof value !== 'string' || !urlHasPassword(value)) continue;
    let mode: number;
    try {
      mode = fs.statSync(file).mode;
    } catch {
      continue; // it was read a moment ago; a vanished file has nothing left to protect
    }
    if ((mode & 0o077) !== 0) {
      throw new UserError(`config file ${file}: ${key} contains a password but the file is readable by group or others (chmod 600 ${file}, or use a password_file)`);
    }
  }
}

/** Query parameters that carry a password in a libpq-style URL (`postgres://h/db?password=…`). */
const PASSWORD_PARAMS = /([?&](?:password|sslpassword)=)[^&#]*/gi;

/** Replace the password part of a URL (user info or ?password=) with ***; leave everything else readable. */
export function maskUrl(url: string): string {
  let masked: string;
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    masked = u.toString();
  } catch {
    masked = url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  }
  return masked.replace(PASSWORD_PARAMS, '$1***');
}

export function urlHasPassword(url: string): boolean {
  if (/[?&](?:password|sslpassword)=[^&#]/i.test(url)) return true;
  try {
    return new URL(url).password !== '';
  } catch {
    return /\/\/[^:/@]+:[^@]+@/.test(url);
  }
}
