/** Minimal levelled logger on stderr (stdout is kept for results and --json). */
export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

let threshold: Level = 'info';
let timestamps = !process.stderr.isTTY;

export function setLogLevel(level: Level): void {
  threshold = level;
}

export function setTimestamps(on: boolean): void {
  timestamps = on;
}

function write(level: Level, message: string): void {
  if (ORDER[level] < ORDER[threshold]) return;
  const prefix = timestamps ? `${new Date().toISOString()} ${level.toUpperCase()} ` : level === 'info' ? '' : `${level}: `;
  process.stderr.write(`${prefix}${message}\n`);
}

export const log = {
  debug: (m: string) => write('debug', m),
  info: (m: string) => write('info', m),
  warn: (m: string) => write('warn', m),
  error: (m: string) => write('error', m),
  enabled: (level: Level) => ORDER[level] >= ORDER[threshold],
};
