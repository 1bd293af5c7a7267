/**
 * Command-line flags of a benchmark, through node:util's parseArgs: `--name value` for numbers and
 * strings, `--name` alone for booleans, each with its default. An unknown flag or a value that is not a
 * number where one is expected stops the benchmark with a message naming the flag (exit code 2).
 */
import { parseArgs } from 'node:util';

type Flag = number | string | boolean;
export type BenchArgs<S extends Record<string, Flag>> = { -readonly [K in keyof S]: S[K] extends number ? number : S[K] extends boolean ? boolean : string };

/** Parses `argv` (default: this process's) against `defaults`, whose types give the flags' types. */
export function benchArgs<S extends Record<string, Flag>>(defaults: S, argv: string[] = process.argv.slice(2)): BenchArgs<S> {
  const options = Object.fromEntries(Object.entries(defaults).map(([name, d]) => [name, { type: typeof d === 'boolean' ? ('boolean' as const) : ('string' as const) }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    return fail(`${(err as Error).message}; flags: ${Object.keys(defaults).map((n) => `--${n}`).join(' ')}`);
  }
  const parsed: Record<string, Flag> = {};
  for (const [name, d] of Object.entries(defaults)) {
    const v = values[name];
    if (v === undefined) parsed[name] = d;
    else if (typeof d !== 'number') parsed[name] = v;
    else if (Number.isFinite(Number(v)) && String(v).trim() !== '') parsed[name] = Number(v);
    else return fail(`--${name}: expected a number, got "${String(v)}"`);
  }
  return parsed as BenchArgs<S>;
}

/** A comma-separated list flag (`--clients 1000,5000`) as numbers; a bad element is an error naming the flag. */
export function numberList(name: string, value: string): number[] {
  const list = value.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isFinite(n) || n <= 0)) return fail(`--${name}: expected positive numbers separated by commas, got "${value}"`);
  return list;
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}
