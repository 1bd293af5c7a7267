import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultCacheDir } from '../../src/localcluster/binaries.js';

describe('defaultCacheDir', () => {
  const saved = process.env['PAVED_CACHE_DIR'];
  afterEach(() => {
    if (saved === undefined) delete process.env['PAVED_CACHE_DIR'];
    else process.env['PAVED_CACHE_DIR'] = saved;
  });

  it('is ~/.cache/paved when PAVED_CACHE_DIR is unset or blank', () => {
    delete process.env['PAVED_CACHE_DIR'];
    expect(defaultCacheDir()).toBe(join(homedir(), '.cache', 'paved'));
    process.env['PAVED_CACHE_DIR'] = '  ';
    expect(defaultCacheDir()).toBe(join(homedir(), '.cache', 'paved'));
  });

  it('follows PAVED_CACHE_DIR as the README documents', () => {
    process.env['PAVED_CACHE_DIR'] = '/mnt/big/paved';
    expect(defaultCacheDir()).toBe('/mnt/big/paved');
  });
});
