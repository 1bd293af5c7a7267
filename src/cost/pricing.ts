/**
 * Prices and budget thresholds for the cost model. The defaults are OpenCost's (its
 * default custom pricing: 0.031611 USD per vCPU-hour, 0.004237 USD per GiB-hour of RAM,
 * 0.04 USD per GiB-month of storage), so figures can be compared with an OpenCost install.
 * A per-cluster file (PAVED_PRICING_FILE, YAML or JSON) overrides any of them.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { InvalidSpecError } from '../errors.js';

/** Hours in an average month, as OpenCost uses to turn monthly storage prices into hourly ones. */
export const HOURS_PER_MONTH = 730;

export const pricingSchema = z
  .object({
    currency: z.string().min(1).default('USD'),
    /** Price of one vCPU (core) for one hour. */
    cpuCoreHour: z.number().nonnegative().default(0.031611),
    /** Price of one GiB of memory for one hour. */
    memoryGiBHour: z.number().nonnegative().default(0.004237),
    /** Price of one GiB of persistent volume claim for one hour (OpenCost: 0.04 per GiB-month). */
    storageGiBHour: z.number().nonnegative().default(0.04 / HOURS_PER_MONTH),
    /** Count persistent-volume claims (one more PromQL query per request). */
    includeStorage: z.boolean().default(true),
    budget: z
      .object({
        /** Projected month-end / budget at or above which the status is `warning`. */
        warningRatio: z.number().positive().default(0.8),
        /** Projected month-end / budget at or above which the status is `over`. */
        overRatio: z.number().positive().default(1.0),
      })
      .strict()
      .refine((b) => b.warningRatio <= b.overRatio, { message: 'warningRatio must not exceed overRatio' })
      .default({ warningRatio: 0.8, overRatio: 1.0 }),
    idle: z
      .object({
        /** A service is idle when its CPU used / requested over the idle window stays under this. */
        cpuUtilisationBelow: z.number().positive().max(1).default(0.1),
      })
      .strict()
      .default({ cpuUtilisationBelow: 0.1 }),
  })
  .strict();

/** The effective pricing (all defaults applied). */
export type Pricing = Readonly<z.infer<typeof pricingSchema>>;

/** The OpenCost-compatible defaults. */
export const DEFAULT_PRICING: Pricing = Object.freeze(pricingSchema.parse({}));

/** Parses a pricing document (already decoded from YAML/JSON); throws InvalidSpecError naming the field. */
export function parsePricing(doc: unknown): Pricing {
  const parsed = pricingSchema.safeParse(doc ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue ? issue.path.join('.') || '(root)' : '(root)';
    throw new InvalidSpecError(`pricing.${field}`, issue?.message ?? 'invalid pricing');
  }
  return Object.freeze(parsed.data);
}

/** Loads the pricing file when one is configured, else the defaults. */
export async function loadPricing(file: string | undefined): Promise<Pricing> {
  if (!file) return DEFAULT_PRICING;
  const text = await readFile(file, 'utf8');
  return parsePricing(parseYaml(text));
}
