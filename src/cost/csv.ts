/**
 * CSV for finance (RFC 4180): a header row, comma-separated, CRLF line ends, fields quoted when
 * they contain a comma, a quote or a line break. Numbers are written in full precision.
 */

export type CsvValue = string | number | boolean | null | undefined;

function field(v: CsvValue): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Renders a table. Every row must have one value per header column. */
export function toCsv(header: readonly string[], rows: ReadonlyArray<readonly CsvValue[]>): string {
  return [header, ...rows].map((r) => r.map(field).join(',')).join('\r\n') + '\r\n';
}

/** The columns of a cost line, in CSV order. */
export const COST_LINE_COLUMNS = [
  'cpuCoreHours',
  'cpuRequestedCoreHours',
  'cpuUsedCoreHours',
  'memoryGiBHours',
  'memoryRequestedGiBHours',
  'memoryUsedGiBHours',
  'storageGiBHours',
  'cpuCost',
  'memoryCost',
  'storageCost',
  'totalCost',
  'idleCost',
  'cpuEfficiency',
  'memoryEfficiency',
  'costEfficiency',
] as const;

export function lineValues(line: Record<(typeof COST_LINE_COLUMNS)[number], number | null>): CsvValue[] {
  return COST_LINE_COLUMNS.map((c) => line[c]);
}
