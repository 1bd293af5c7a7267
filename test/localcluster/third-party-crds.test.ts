import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SetupError } from '../../src/errors.js';
import { kubectlPathLine } from '../../src/localcluster/binaries.js';
import { parseDownloadJson, THIRD_PARTY_CRD_SOURCES, thirdPartyCrdFiles } from '../../src/localcluster/third-party-crds.js';

describe('parseDownloadJson', () => {
  it('reads the back-to-back objects that `go mod download -json` prints', () => {
    const text = [
      '{', '\t"Path": "sigs.k8s.io/gateway-api",', '\t"Version": "v1.6.1",', '\t"Dir": "/cache/sigs.k8s.io/gateway-api@v1.6.1"', '}',
      '{', '\t"Path": "github.com/argoproj/argo-cd/v3",', '\t"Version": "v3.5.1",', '\t"Error": "verifying module: checksum mismatch"', '}',
    ].join('\n');
    expect(parseDownloadJson(text)).toEqual([
      { Path: 'sigs.k8s.io/gateway-api', Version: 'v1.6.1', Dir: '/cache/sigs.k8s.io/gateway-api@v1.6.1' },
      { Path: 'github.com/argoproj/argo-cd/v3', Version: 'v3.5.1', Error: 'verifying module: checksum mismatch' },
    ]);
  });

  it('reads nothing from empty output', () => {
    expect(parseDownloadJson('')).toEqual([]);
  });
});

describe('THIRD_PARTY_CRD_SOURCES', () => {
  it('names each module once and only YAML files', () => {
    const modules = THIRD_PARTY_CRD_SOURCES.map((s) => s.module);
    expect(new Set(modules).size).toBe(modules.length);
    expect(THIRD_PARTY_CRD_SOURCES.flatMap((s) => s.files).every((f) => f.endsWith('.yaml'))).toBe(true);
  });
});

describe('thirdPartyCrdFiles failures', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'paved-crds-test-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('names a missing Go toolchain and the remedy', async () => {
    const err = await thirdPartyCrdFiles({ go: join(scratch, 'no-such-go') }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(SetupError);
    expect((err as SetupError).message).toMatch(/Go toolchain is missing/);
    expect((err as SetupError).remedy).toMatch(/install Go/);
  });

  it('refuses a download that does not match go.sum, with go\'s own words', async () => {
    const go = join(scratch, 'go');
    writeFileSync(go, [
      '#!/usr/bin/env bash',
      'echo "verifying sigs.k8s.io/gateway-api@v1.6.1: checksum mismatch" >&2',
      'echo "SECURITY ERROR" >&2',
      'exit 1',
    ].join('\n'));
    chmodSync(go, 0o755);
    const err = await thirdPartyCrdFiles({ go }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(SetupError);
    expect((err as SetupError).message).toMatch(/go mod download of the third-party CRD modules failed \(exit 1\)/);
    expect((err as SetupError).message).toMatch(/checksum mismatch/);
    expect((err as SetupError).remedy).toMatch(/go\.sum/);
  });
});

describe('kubectlPathLine', () => {
  it('puts the folder of kubectl first on PATH and sets KUBECONFIG', () => {
    expect(kubectlPathLine('/root/.cache/paved/bin/kubectl', '/tmp/paved-cluster-ab/admin.kubeconfig')).toBe(
      'export PATH=/root/.cache/paved/bin:"$PATH" KUBECONFIG=/tmp/paved-cluster-ab/admin.kubeconfig',
    );
  });

  it('quotes paths a shell would split', () => {
    expect(kubectlPathLine("/home/o'neil/my cache/bin/kubectl", '/tmp/k')).toBe(
      `export PATH='/home/o'\\''neil/my cache/bin':"$PATH" KUBECONFIG=/tmp/k`,
    );
  });
});
