/**
 * What the compiled build buys: start-up of `node dist/main.js` (what the image runs) against
 * `node --import tsx src/main.ts` (what `npm run paved` runs), in one run on the same machine, and the
 * image's size estimate (the production node_modules plus dist/, what the Dockerfile's runtime stage
 * copies besides Node.js itself).
 *
 *   npm run build && node --import tsx bench/startup.ts [--runs 7]
 *
 * Start-up is measured to main.ts's first log line ("using the cluster of KUBECONFIG"), which it writes
 * once every module of its static import graph is loaded and the configuration parsed; the kubeconfig
 * points at a closed loopback port, so no cluster is involved and nothing after that line is timed.
 * The variants alternate, so both see the same page cache and machine load.
 */
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from './args.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const { runs } = benchArgs({ runs: 7 });

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Milliseconds from spawn to the first log line, then the process is killed. */
function startOnce(args: string[], kubeconfig: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp', KUBECONFIG: kubeconfig, PAVED_HTTP_PORT: '0', PAVED_METRICS_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let done = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (done || !chunk.toString().includes('using the cluster of KUBECONFIG')) return;
      done = true;
      resolve(Number(process.hrtime.bigint() - started) / 1e6);
      child.kill('SIGKILL');
    });
    child.once('exit', (code) => {
      if (!done) reject(new Error(`${args.join(' ')} exited (${code}) before its first log line`));
    });
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const du = (path: string): number => Number(execFileSync('du', ['-sb', path]).toString().split('\t')[0]);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'paved-startup-'));
  try {
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      'apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:9"}}]\n' +
        'users: [{name: u, user: {token: x}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n',
    );
    const variants = { 'node dist/main.js': ['dist/main.js'], 'node --import tsx src/main.ts': ['--import', 'tsx', 'src/main.ts'] };
    const times: Record<string, number[]> = {};
    for (const name of Object.keys(variants)) times[name] = [];
    await startOnce(variants['node dist/main.js'], kubeconfig); // warm the page cache for both
    await startOnce(variants['node --import tsx src/main.ts'], kubeconfig);
    for (let i = 0; i < runs; i++) {
      for (const [name, args] of Object.entries(variants)) times[name]?.push(await startOnce(args, kubeconfig));
    }
    out(`start-up to the first log line, ${runs} runs each, alternating (node ${process.version}):`);
    for (const [name, xs] of Object.entries(times)) {
      out(`  ${name}: median ${median(xs).toFixed(0)} ms, min ${Math.min(...xs).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms`);
    }

    // Image size estimate: the runtime stage's node_modules (npm ci --omit=dev) and dist/.
    const prod = join(dir, 'prod');
    cpSync(join(ROOT, 'package.json'), join(prod, 'package.json'));
    cpSync(join(ROOT, 'package-lock.json'), join(prod, 'package-lock.json'));
    execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: prod, stdio: 'ignore' });
    const prodModules = du(join(prod, 'node_modules'));
    const allModules = du(join(ROOT, 'node_modules'));
    const dist = du(join(ROOT, 'dist'));
    const files = du(join(ROOT, 'crds')) + du(join(ROOT, 'analysis-templates')) + du(join(ROOT, 'deploy', 'admission'));
    const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
    out(`image size estimate (without the node:20-bookworm-slim base): production node_modules ${mb(prodModules)} + dist ${mb(dist)} + crds/templates/admission ${mb(files)} = ${mb(prodModules + dist + files)}`);
    out(`  (the development node_modules, with tsx, TypeScript, vitest and the type packages: ${mb(allModules)})`);
    out(JSON.stringify({ bench: 'startup', runs, medianMs: Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])), prodModulesBytes: prodModules, distBytes: dist, filesBytes: files, devModulesBytes: allModules }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
