#!/usr/bin/env node
// kubectl-paved. kubectl finds this file as `kubectl-paved` on PATH (npm's bin link).
// In a checkout (the TypeScript sources and tsx beside it) it runs the sources, so a stale dist/ is
// never what runs; an installed package (`npm pack` builds dist/, see `prepack`) runs the compiled build.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/kubectl-paved/cli.ts', import.meta.url);
let tsx;
if (existsSync(source)) {
  tsx = await import('tsx/esm/api').catch(() => undefined);
}
if (tsx) {
  tsx.register();
  await import(source.href);
} else {
  await import('../dist/cli/kubectl-paved/cli.js');
}
