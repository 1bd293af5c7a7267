/**
 * The portal's build: Preact with the automatic JSX runtime, hashed file names under assets/ (served
 * immutable by src/server/portal.ts), no inline scripts or styles (the content security policy allows
 * this origin's files only).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
    sourcemap: false,
  },
});
