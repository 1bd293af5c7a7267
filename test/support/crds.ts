/** Where the CRDs that tests install come from: the project's crds/ and the shared third-party ones. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CRD_DIR, yamlFiles } from '../../src/install/crds.js';

export { installCrds, readCrds } from '../../src/install/crds.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The official CRDs of Gateway API, prometheus-operator and Argo CD, read where they are shared (never copied). */
export function thirdPartyCrdFiles(): string[] {
  const candidates = [join(root, '../shared/third-party-crds'), join(root, 'shared/third-party-crds')];
  const dir = candidates.find((d) => existsSync(d));
  if (!dir) throw new Error(`third-party CRDs not found in ${candidates.join(' or ')}`);
  return yamlFiles(dir);
}

/** crds/*.yaml of this project. */
export function projectCrdFiles(): string[] {
  return yamlFiles(CRD_DIR);
}
