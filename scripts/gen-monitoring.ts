/** Writes deploy/'s generated monitoring files (PrometheusRule, plain rules file) from src/monitoring. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPOSITORY_ROOT, renderMonitoringFiles } from '../src/monitoring/files.js';

for (const [path, text] of Object.entries(renderMonitoringFiles())) {
  await writeFile(join(REPOSITORY_ROOT, path), text);
  process.stdout.write(`wrote ${path}\n`);
}
