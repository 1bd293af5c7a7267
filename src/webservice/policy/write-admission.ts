/** CLI: writes deploy/admission/webservice-policies.yaml from the policy rules. */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { renderAdmissionYaml } from './admission.js';

const target = fileURLToPath(new URL('../../../deploy/admission/webservice-policies.yaml', import.meta.url));
await writeFile(target, renderAdmissionYaml());
process.stdout.write(`wrote ${target}\n`);
