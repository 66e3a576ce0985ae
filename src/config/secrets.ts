/** Passwords: read from files with safe permissions or from the environment, and masked for display. */
import fs from 'node:fs';
import { UserError } from '../util/errors.js';

export function readPasswordFile(file: string, key: string): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new UserError(`${key}: password file ${file} not found`);
  }
  if ((stat.mode & 0o077) !== 0) {
    throw new UserError(`${key}: password file ${file} is readable by group or others (chmod 600 ${file})`);
  }
  return fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
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
