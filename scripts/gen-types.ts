/**
 * Generates the TypeScript types of paved.dev resources from the CRD schemas in crds/, so that the
 * CRDs are the one source of truth. `npm run gen:types` writes src/api/generated/; the test
 * test/api/generated-types.test.ts fails when the committed files drift from the CRDs.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderGeneratedTypes } from '../src/api/generate.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const files = await renderGeneratedTypes(join(root, 'crds'), readdir, (p) => readFile(p, 'utf8'));
for (const [name, text] of files) {
  await writeFile(join(root, 'src/api/generated', name), text);
  process.stdout.write(`wrote src/api/generated/${name}\n`);
}
