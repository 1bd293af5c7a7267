/**
 * Bad input and failure of the local cluster helpers: each gives one clear error naming the cause
 * and the remedy, with the component's last log lines, and leaves nothing behind. These start real
 * processes (small stand-in scripts), not the Kubernetes binaries.
 */
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SetupError } from '../../src/errors.js';
import { ensureBinaries } from '../../src/localcluster/binaries.js';
import { RUN_DIR_PREFIX, startLocalCluster } from '../../src/localcluster/cluster.js';
import { freePort } from '../../src/localcluster/net.js';

const scratch = mkdtempSync(join(tmpdir(), 'paved-failure-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const path = join(scratch, name);
  writeFileSync(path, `#!/usr/bin/env bash\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

function clusterDirs(): string[] {
  return readdirSync(tmpdir()).filter((d) => d.startsWith(RUN_DIR_PREFIX));
}

describe('local cluster failures', () => {
  it('names a missing Go toolchain and the remedy', async () => {
    const err = await ensureBinaries({ cacheDir: join(scratch, 'empty-cache'), go: join(scratch, 'no-such-go') })
      .then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(SetupError);
    expect((err as SetupError).message).toMatch(/Go toolchain is missing/);
    expect((err as SetupError).remedy).toMatch(/install Go/);
  });

  it('reports a failed build with the last lines of its output', async () => {
    const go = script('failing-go', 'if [ "$1" = version ]; then echo "go version go1.26"; exit 0; fi\necho "compile: out of cheese" >&2\nexit 3');
    const err = await ensureBinaries({ cacheDir: join(scratch, 'cache-2'), go }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(SetupError);
    expect((err as SetupError).message).toMatch(/go build .* failed \(exit 3\)/);
    expect((err as SetupError).logTail).toContain('out of cheese');
    expect(readdirSync(join(scratch, 'cache-2', 'bin'))).toEqual([]); // no half-written binary
  });

  it('stops everything and names the component that exits, with its log', async () => {
    const before = clusterDirs();
    const controlPlane = script('dying-control-plane', 'echo "etcd: cannot open data dir: permission denied" >&2\nexit 1');
    const err = await startLocalCluster({
      binaries: { controlPlane, kwok: controlPlane, kwokConfigs: [] },
      healthTimeoutMs: 10_000,
    }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(SetupError);
    expect((err as SetupError).message).toMatch(/^etcd exited \(1\) before becoming healthy/);
    expect((err as SetupError).logTail).toContain('permission denied');
    expect(clusterDirs()).toEqual(before); // temp dir removed
  });

  it('recognises a port clash', async () => {
    const controlPlane = script('clashing', 'echo "listen tcp 127.0.0.1:2379: bind: address already in use" >&2\nexit 1');
    const err = await startLocalCluster({
      binaries: { controlPlane, kwok: controlPlane, kwokConfigs: [] },
      healthTimeoutMs: 10_000,
    }).then(() => undefined, (e: unknown) => e);
    expect((err as SetupError).message).toMatch(/port clash/);
  });

  it('times out a component that never becomes healthy, and kills it', async () => {
    const marker = `paved-hang-${await freePort()}`;
    const controlPlane = script('hanging', `exec -a ${marker} sleep 600`);
    const err = await startLocalCluster({
      binaries: { controlPlane, kwok: controlPlane, kwokConfigs: [] },
      healthTimeoutMs: 1_500,
    }).then(() => undefined, (e: unknown) => e);
    expect((err as SetupError).message).toMatch(/etcd did not become healthy .* within 1500 ms/);
    const { execSync } = await import('node:child_process');
    const left = execSync(`pgrep -f "^${marker}" || true`).toString().trim();
    expect(left).toBe('');
  });
});
