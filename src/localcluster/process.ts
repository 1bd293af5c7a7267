/**
 * Supervises the child processes of the local cluster and Prometheus: each runs in its own process
 * group with its output in a log file, is stopped with SIGTERM then SIGKILL, and is killed when this
 * process exits or is interrupted. A process that dies hard (SIGKILL) cannot clean up after itself,
 * so every run records its children in `owner.json` and the next run reaps what a dead owner left.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>;
  readonly hasExited: () => boolean;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** The last `lines` lines of the log. */
  tail(lines?: number): Promise<string>;
}

const live = new Set<ManagedProcess>();
/** Run directories to remove if this process exits before their owner stopped them. */
const runDirs = new Set<string>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const p of live) killGroup(p.pid, 'SIGKILL');
    for (const dir of runDirs) rmSync(dir, { recursive: true, force: true });
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      // Someone else (main.ts) handles this signal and exits: the 'exit' hook above still runs.
      if (process.listenerCount(signal) > 1) return;
      for (const p of live) killGroup(p.pid, 'SIGKILL');
      process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
    };
    process.on(signal, onSignal);
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Starts `cmd args` in its own process group, logging stdout and stderr to `logFile`. */
export function startProcess(name: string, cmd: string, args: string[], logFile: string): ManagedProcess {
  installExitHooks();
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  let exitValue: number | string | undefined;
  const exited = new Promise<number | string>((resolve) => {
    child.on('error', (err) => {
      exitValue = `spawn error: ${err.message}`;
      resolve(exitValue);
    });
    child.on('exit', (code, signal) => {
      exitValue = code ?? signal ?? -1;
      resolve(exitValue);
    });
  });
  const managed: ManagedProcess = {
    name,
    pid: child.pid ?? -1,
    logFile,
    exited,
    hasExited: () => exitValue !== undefined,
    async stop(graceMs = 5_000) {
      if (exitValue === undefined && child.pid) {
        killGroup(child.pid, 'SIGTERM');
        const timer = setTimeout(() => child.pid && killGroup(child.pid, 'SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      live.delete(managed);
    },
    tail: (lines = 20) => tailFile(logFile, lines),
  };
  void exited.then(() => live.delete(managed));
  live.add(managed);
  return managed;
}

/**
 * Runs a short-lived command to completion, streaming each output line to `onLine`; resolves with the
 * exit code and the last 40 lines (stdout and stderr together). Rejects only when it cannot start.
 */
export function runCommand(
  cmd: string,
  args: string[],
  opts: { cwd?: string; onLine?: (line: string) => void; onStdout?: (line: string) => void } = {},
): Promise<{ code: number; tail: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd ?? process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line) continue;
        lines.push(line);
        if (lines.length > 40) lines.shift();
        opts.onLine?.(line);
      }
    };
    // With `onStdout`, stdout is data (every line, in order, e.g. JSON) and only stderr is log.
    const onStdout = opts.onStdout;
    child.stdout?.setEncoding('utf8');
    let pending = '';
    child.stdout?.on('data', onStdout ? (chunk: string) => {
      const parts = (pending + chunk).split('\n');
      pending = parts.pop() ?? '';
      parts.forEach(onStdout);
    } : (chunk: string) => collect(Buffer.from(chunk)));
    child.stdout?.on('end', () => { if (onStdout && pending) onStdout(pending); });
    child.stderr?.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, tail: lines.join('\n') }));
  });
}

/** The last `lines` lines of a file ('' when it does not exist). */
export async function tailFile(file: string, lines = 20): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

interface OwnerRecord {
  ownerPid: number;
  pids: number[];
}

/**
 * Records who owns a run directory and which processes it started; the directory is removed when
 * this process exits, unless `releaseRunDir` was called first (the owner removed it itself).
 */
export function writeOwner(dir: string, pids: number[]): void {
  installExitHooks();
  runDirs.add(dir);
  const record: OwnerRecord = { ownerPid: process.pid, pids };
  writeFileSync(join(dir, 'owner.json'), JSON.stringify(record));
}

/** The owner removed (or keeps) the directory itself: no removal at exit. */
export function releaseRunDir(dir: string): void {
  runDirs.delete(dir);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes run directories (`<tmp>/<prefix>*`) whose owner is dead, killing the processes they list
 * (only those whose command line still names the directory, so a reused pid is never touched).
 * Returns how many directories were reaped.
 */
export function reapOrphans(prefix: string): number {
  let reaped = 0;
  for (const entry of readdirSync(tmpdir())) {
    if (!entry.startsWith(prefix)) continue;
    const dir = join(tmpdir(), entry);
    const ownerFile = join(dir, 'owner.json');
    if (!existsSync(ownerFile)) continue;
    let record: OwnerRecord;
    try {
      record = JSON.parse(readFileSync(ownerFile, 'utf8')) as OwnerRecord;
    } catch {
      continue;
    }
    if (isAlive(record.ownerPid)) continue;
    for (const pid of record.pids) {
      const cmdline = readCmdline(pid);
      if (cmdline.includes(dir)) killGroup(pid, 'SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
    reaped++;
  }
  return reaped;
}

function readCmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}
