/**
 * Just enough of Kubernetes resource quantities (pure), the one parser of the tree: parse to base units
 * (cores, bytes) to compare sizes (a WebService's requests and limits, a Team's quota), and format back
 * in the API server's canonical style so that what paved renders is what the server stores.
 */

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** Parses "500m", "2", "1.5Gi", "10G" to a number of base units; throws on anything else. */
export function parseQuantity(text: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?|\.[0-9]+)([KMGTPE]i|[mkMGTPE])?$/.exec(text.trim());
  if (!m) throw new Error(`not a quantity: ${JSON.stringify(text)}`);
  const value = Number(m[1]);
  const suffix = m[2] ?? '';
  const factor = BINARY[suffix] ?? DECIMAL[suffix];
  if (factor === undefined) throw new Error(`not a quantity: ${JSON.stringify(text)}`);
  return value * factor;
}

/** Formats cores canonically: whole cores as "2", otherwise millicores "500m" (rounded up). */
export function formatCpu(cores: number): string {
  const milli = Math.ceil(Math.round(cores * 1e6) / 1e3);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}

/** Whether a quantity was written with a binary suffix (Ki, Mi...) or a decimal one (k, M, none). */
export type QuantityFamily = 'binary' | 'decimal';

/** The family of a quantity's text, as the API server keeps it when it canonicalises. */
export function familyOf(text: string): QuantityFamily {
  return /[KMGTPE]i$/.test(text.trim()) ? 'binary' : 'decimal';
}

/**
 * Formats bytes like the API server: in the binary family the largest binary suffix that divides
 * exactly; otherwise (or when none divides) the largest decimal suffix that does, else plain bytes.
 */
export function formatBytes(bytes: number, family: QuantityFamily = 'binary'): string {
  const n = Math.ceil(bytes);
  if (n === 0) return '0';
  if (family === 'binary') {
    for (const [suffix, factor] of Object.entries(BINARY).reverse()) {
      if (n % factor === 0) return `${n / factor}${suffix}`;
    }
  }
  for (const [suffix, factor] of Object.entries(DECIMAL).reverse()) {
    if (factor >= 1e3 && n % factor === 0) return `${n / factor}${suffix}`;
  }
  return String(n);
}
