/**
 * Tables and ages the way kubectl prints them (pure): upper-case headers, left-aligned columns padded
 * to the widest cell plus three spaces (kubectl's tabwriter), `<none>` for empty cells, ages like
 * `apimachinery`'s HumanDuration (45s, 3m20s, 17m, 5h3m, 2d4h, 30d).
 */

/** One table: headers and rows of cells. Empty cells print `<none>`. */
export function renderTable(headers: readonly string[], rows: ReadonlyArray<readonly (string | undefined)[]>): string {
  const cells = [headers.map((h) => h.toUpperCase()), ...rows.map((r) => headers.map((_, i) => (r[i] === undefined || r[i] === '' ? '<none>' : r[i])))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd()).join('\n') + '\n';
}

/** kubectl's age of a timestamp at `now` (`<unknown>` when absent or in the future by more than a second). */
export function formatAge(timestamp: string | Date | undefined, now: Date): string {
  if (timestamp === undefined) return '<unknown>';
  const ms = now.getTime() - new Date(timestamp).getTime();
  if (Number.isNaN(ms) || ms < -1000) return '<unknown>';
  return humanDuration(Math.max(0, ms));
}

/** apimachinery's HumanDuration. */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 192) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}
