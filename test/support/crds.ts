/**
 * Where the CRDs that tests install come from: the project's crds/ and the official third-party
 * ones, read from their Go modules in the module cache (src/localcluster/third-party-crds.ts).
 */
import { CRD_DIR, yamlFiles } from '../../src/install/crds.js';

export { installCrds, readCrds } from '../../src/install/crds.js';
export { thirdPartyCrdFiles } from '../../src/localcluster/third-party-crds.js';

/** crds/*.yaml of this project. */
export function projectCrdFiles(): string[] {
  return yamlFiles(CRD_DIR);
}
