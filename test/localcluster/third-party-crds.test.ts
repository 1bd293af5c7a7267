import { describe, expect, it } from 'vitest';
import { parseDownloadJson, THIRD_PARTY_CRD_SOURCES } from '../../src/localcluster/third-party-crds.js';

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
