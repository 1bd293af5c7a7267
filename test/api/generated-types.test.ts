/**
 * One source of truth: src/api/generated/*.ts must be exactly what `npm run gen:types` makes from
 * crds/. A CRD edit without regenerating (or a hand edit of a generated file) fails here.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderGeneratedTypes } from '../../src/api/generate.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const generatedDir = join(root, 'src/api/generated');

describe('generated types', () => {
  it('match the CRDs in crds/ (run `npm run gen:types` after editing a CRD)', async () => {
    const expected = await renderGeneratedTypes(join(root, 'crds'), readdir, (p) => readFile(p, 'utf8'));
    expect(expected.length).toBeGreaterThan(0);
    for (const [name, text] of expected) {
      const committed = await readFile(join(generatedDir, name), 'utf8').catch(() => '(missing)');
      expect(committed, `src/api/generated/${name} drifted from crds/`).toBe(text);
    }
  });

  it('has no generated file without a CRD', async () => {
    const expected = await renderGeneratedTypes(join(root, 'crds'), readdir, (p) => readFile(p, 'utf8'));
    const names = new Set(expected.map(([n]) => n));
    const present = (await readdir(generatedDir)).filter((n) => n.endsWith('.ts'));
    expect(present.filter((n) => !names.has(n))).toEqual([]);
  });

  it('detects drift (a changed CRD gives different text)', async () => {
    const original = await readFile(join(root, 'crds/paved.dev_teams.yaml'), 'utf8');
    const changed = original.replace('costCenter:\n', 'costCentre:\n');
    expect(changed).not.toBe(original);
    const read = async (p: string): Promise<string> => (p.endsWith('paved.dev_teams.yaml') ? changed : readFile(p, 'utf8'));
    const files = new Map(await renderGeneratedTypes(join(root, 'crds'), readdir, read));
    const committed = await readFile(join(generatedDir, 'team.ts'), 'utf8');
    expect(files.get('team.ts')).not.toBe(committed);
    expect(files.get('team.ts')).toContain('costCentre');
  });
});
