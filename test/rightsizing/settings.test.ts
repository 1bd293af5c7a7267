/** The platform's rightsizing settings file: overrides merged over the defaults, bad input named by field. */
import { describe, expect, it } from 'vitest';
import { InvalidSpecError } from '../../src/errors.js';
import { recommendContainer } from '../../src/rightsizing/recommend.js';
import { parseRightsizingSettings } from '../../src/rightsizing/settings.js';
import { DEFAULT_SETTINGS } from '../../src/rightsizing/types.js';

const MIB = 2 ** 20;
const daily = Array.from({ length: 14 }, (_, i) => ({ day: `2026-11-${String(i + 1).padStart(2, '0')}`, cpu: 0.2, memory: 200 * MIB }));
const usage = { namespace: 'ns', webService: 'api', container: 'app', cpuQuantile: 0.2, memoryMax: 200 * MIB, daily };

describe('parseRightsizingSettings', () => {
  it('an empty document is the defaults', () => {
    expect(parseRightsizingSettings({})).toEqual(DEFAULT_SETTINGS);
  });

  it('a runtime floor and CPU recommendations under a CPU HPA, configured by the platform', () => {
    const s = parseRightsizingSettings({ recommend: { floors: { java: { cpu: 1, memory: 512 * MIB } }, memoryOnlyWithCpuHpa: false }, watch: { windowSeconds: 3600 } });
    expect(s.recommend.floors['java']).toEqual({ cpu: 1, memory: 512 * MIB });
    expect(s.recommend.floors['go']).toEqual(DEFAULT_SETTINGS.recommend.floors['go']); // the others stay
    expect(s.watch).toEqual({ ...DEFAULT_SETTINGS.watch, windowSeconds: 3600 });
    expect(recommendContainer(s.recommend, { usage, runtime: 'java', bounds: {}, cpuHpa: true })).toMatchObject({ kind: 'recommended', cpu: 1, memory: 512 * MIB, notes: [] });
  });

  it('bad input names the field and the reason', () => {
    expect(() => parseRightsizingSettings({ recommend: { cpuQuantile: 2 } })).toThrow(InvalidSpecError);
    expect(() => parseRightsizingSettings({ recommend: { cpuQuantile: 2 } })).toThrow(/rightsizing\.recommend\.cpuQuantile/);
    expect(() => parseRightsizingSettings({ stability: { stableDay: 14 } })).toThrow(/rightsizing\.stability/);
  });
});
