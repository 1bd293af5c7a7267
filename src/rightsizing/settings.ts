/**
 * The platform's rightsizing settings: a file (PAVED_RIGHTSIZING_FILE, YAML or JSON) overrides any of
 * the defaults of types.ts (docs/rightsizing.md): margins, percentile, window, the runtimes' floors,
 * memory only under a CPU HPA, the stability rule, the watch and its thresholds, the cooling period.
 * Bad input is an InvalidSpecError naming the field.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { InvalidSpecError } from '../errors.js';
import { DEFAULT_SETTINGS, type RightsizingSettings } from './types.js';

const share = z.number().nonnegative().max(10);
const floor = z.object({ cpu: z.number().positive(), memory: z.number().positive() }).strict();

const settingsSchema = z
  .object({
    recommend: z
      .object({
        windowDays: z.number().int().min(1).max(90),
        cpuMargin: share,
        cpuQuantile: z.number().positive().max(1),
        memoryMargin: share,
        oomFactor: z.number().min(1).max(10),
        /** cores and bytes per runtime (go, node, python, java, generic); merged over the defaults. */
        floors: z.record(z.string(), floor),
        memoryOnlyWithCpuHpa: z.boolean(),
      })
      .strict()
      .partial(),
    stability: z.object({ stableDays: z.number().int().min(1).max(90), tolerance: share, changeThreshold: share }).strict().partial(),
    watch: z
      .object({
        windowSeconds: z.number().int().min(1),
        latencyThreshold: share,
        errorRateThreshold: share,
        throttlingThreshold: z.number().positive().max(1),
        coolingSeconds: z.number().int().min(0),
      })
      .strict()
      .partial(),
    historyDays: z.number().int().min(1).max(30),
  })
  .strict()
  .partial();

/** Merges a settings document (decoded from YAML/JSON) over `base`; throws InvalidSpecError naming the field. */
export function parseRightsizingSettings(doc: unknown, base: RightsizingSettings = DEFAULT_SETTINGS): RightsizingSettings {
  const parsed = settingsSchema.safeParse(doc ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidSpecError(`rightsizing.${issue?.path.join('.') || '(root)'}`, issue?.message ?? 'invalid rightsizing settings');
  }
  const o = parsed.data;
  return Object.freeze({
    ...base,
    ...(o.historyDays !== undefined ? { historyDays: o.historyDays } : {}),
    recommend: { ...base.recommend, ...o.recommend, floors: { ...base.recommend.floors, ...o.recommend?.floors } },
    stability: { ...base.stability, ...o.stability },
    watch: { ...base.watch, ...o.watch },
  });
}

/** Loads the settings file when one is configured, else `base`. */
export async function loadRightsizingSettings(file: string | undefined, base: RightsizingSettings = DEFAULT_SETTINGS): Promise<RightsizingSettings> {
  if (!file) return base;
  return parseRightsizingSettings(parseYaml(await readFile(file, 'utf8')), base);
}
