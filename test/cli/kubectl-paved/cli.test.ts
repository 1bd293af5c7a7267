/** Flag handling and exit codes of the CLI that need no cluster. */
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../../src/cli/kubectl-paved/exit-codes.js';
import { run } from '../../../src/cli/kubectl-paved/main.js';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: {
      out: { write: (s: string) => out.push(s), isTTY: false } as unknown as NodeJS.WriteStream,
      err: { write: (s: string) => err.push(s) } as unknown as NodeJS.WriteStream,
      env: {},
      now: () => new Date('2026-12-01T11:00:00Z'),
    },
  };
}

describe('kubectl-paved CLI', () => {
  it('usage errors exit 2 with a message naming the argument', async () => {
    const t = io();
    expect(await run(['get', 'pods'], t.io)).toBe(ExitCode.Usage);
    expect(t.err.join('')).toMatch(/kind: "pods" is not one of/);
    const u = io();
    expect(await run(['frobnicate'], u.io)).toBe(ExitCode.Usage);
    expect(u.err.join('')).toMatch(/unknown command 'frobnicate'/);
    const v = io();
    expect(await run(['get', 'ws', '-o', 'xml'], v.io)).toBe(ExitCode.Usage);
    expect(v.err.join('')).toMatch(/argument 'xml' is invalid/);
  });

  it('a missing kubeconfig or context is a usage error naming the flag', async () => {
    const t = io();
    expect(await run(['get', 'ws', '--kubeconfig', '/nonexistent/kubeconfig'], t.io)).toBe(ExitCode.Usage);
    expect(t.err.join('')).toMatch(/cannot load kubeconfig \/nonexistent\/kubeconfig/);
  });

  it('cost needs --api', async () => {
    const t = io();
    expect(await run(['cost', 'team-a', '--token', 'x'], t.io)).toBe(ExitCode.Usage);
    expect(t.err.join('')).toMatch(/--api: the paved API URL is required/);
  });

  it('recommendations needs --api', async () => {
    const t = io();
    expect(await run(['recommendations', 'team-a', '--token', 'x'], t.io)).toBe(ExitCode.Usage);
    expect(t.err.join('')).toMatch(/--api: the paved API URL is required/);
  });

  it('help exits 0', async () => {
    const t = io();
    expect(await run(['--help'], t.io)).toBe(ExitCode.Ok);
    expect(t.out.join('')).toMatch(/promote/);
  });
});
