#!/usr/bin/env node
// kubectl-paved: runs the TypeScript sources through tsx (there is no compiled build yet; see
// docs/kubectl-plugin.md). kubectl finds this file as `kubectl-paved` on PATH (npm's bin link).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/kubectl-paved/cli.ts');
