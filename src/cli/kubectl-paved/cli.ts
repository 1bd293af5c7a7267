/** The process entry of kubectl-paved (bin/kubectl-paved.js imports it): runs the CLI and exits with its code. */
import { run } from './main.js';

const code = await run(process.argv.slice(2), { out: process.stdout, err: process.stderr, env: process.env, now: () => new Date() });
// exit explicitly once stdout and stderr are flushed: keep-alive sockets of the API client would hold the process open
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
