/**
 * `go mod download -json`, the one way the local cluster finds a Go module's source in the module
 * cache (kwok's stage configs in binaries.ts, the third-party CRDs in third-party-crds.ts). The download
 * is checked against go.sum and answered from the cache without network when it is there.
 */
import { runCommand } from './process.js';

/** One object of `go mod download -json`. */
export interface DownloadedModule {
  readonly Path: string;
  readonly Version?: string;
  readonly Dir?: string;
  readonly Error?: string;
}

/** What one `go mod download -json` run reported. */
export interface GoModDownload {
  readonly code: number;
  readonly modules: DownloadedModule[];
  /** The stderr lines ("go: downloading ..."), for an error's detail. */
  readonly stderr: string[];
}

/**
 * Runs `go mod download -json <modules>` in `cwd`. Rejects only when `go` cannot be run; a failed
 * download is a non-zero code and/or modules with `Error`, for the caller to explain.
 */
export async function goModDownload(go: string, cwd: string, modules: readonly string[], onProgress?: (line: string) => void): Promise<GoModDownload> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const { code } = await runCommand(go, ['mod', 'download', '-json', ...modules], {
    cwd,
    onStdout: (line) => stdout.push(line),
    onLine: (line) => {
      stderr.push(line);
      if (line.trim()) onProgress?.(`  go: ${line.trim()}`);
    },
  });
  return { code, modules: parseDownloadJson(stdout.join('\n')), stderr };
}

/** `go mod download -json` prints one indented JSON object per module, back to back. */
export function parseDownloadJson(text: string): DownloadedModule[] {
  return text
    .split(/^}$/m)
    .map((chunk) => chunk.trim())
    .filter((chunk) => chunk.length > 0)
    .map((chunk) => JSON.parse(`${chunk}\n}`) as DownloadedModule);
}
