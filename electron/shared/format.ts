/** Human figures, the same in the CLI and the window. Imports nothing. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const m = Math.floor(seconds / 60);
  return m < 60 ? `${m} min ${Math.round(seconds % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

const WHEN = new Intl.DateTimeFormat(undefined, { weekday: 'short', year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });

/**
 * A moment as every surface shows it — the CLI, the window, the tray, notifications: one
 * format, in the user's locale and time zone, the same width for every date (tables align).
 */
export function formatWhen(at: string | number | Date): string {
  return WHEN.format(typeof at === 'string' ? Date.parse(at) : at);
}

const two = (n: number) => String(Math.floor(Math.abs(n))).padStart(2, '0');

/** A moment as a date-time picker (`<input type="datetime-local">`) shows it: this machine's time, to the second. */
export function localInputOf(at: string | number | Date): string {
  const d = new Date(at);
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/**
 * What a date-time picker gives ('YYYY-MM-DDTHH:MM[:SS]', this machine's time) as ISO 8601
 * with this machine's offset at that moment, so a process elsewhere reads the same moment; ''
 * for a value that names no moment.
 */
export function isoFromLocalInput(local: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(local);
  if (!m) return '';
  const at = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  if (Number.isNaN(at.getTime()) || at.getDate() !== Number(m[3])) return '';
  const offset = -at.getTimezoneOffset();
  return `${localInputOf(at)}${offset >= 0 ? '+' : '-'}${two(offset / 60)}:${two(offset % 60)}`;
}
