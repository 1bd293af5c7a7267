/**
 * The exit codes of kubectl-paved: stable, documented in docs/kubectl-plugin.md, so that scripts can
 * branch on them (`kubectl paved promote shop || case $? in 4) ...`).
 */
export const ExitCode = {
  Ok: 0,
  /** Anything not listed below (an unexpected API answer, a bug). */
  Error: 1,
  /** Bad flags or arguments (commander's usage errors included). */
  Usage: 2,
  /** The named object (WebService, Team) does not exist. */
  NotFound: 3,
  /** The API server (or the paved API) refused: RBAC, or no credentials. */
  Forbidden: 4,
  /** The API server or the paved API could not be reached, or answered 5xx. */
  Unavailable: 5,
  /** The paved API does not offer this endpoint (e.g. recommendations before the rightsizing engine exists). */
  NotImplemented: 6,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the CLI reports as one line on stderr and a given exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** The exit code of an HTTP status from the API server or the paved API. */
export function exitCodeOfStatus(status: number | undefined): ExitCodeValue {
  if (status === 404) return ExitCode.NotFound;
  if (status === 401 || status === 403) return ExitCode.Forbidden;
  if (status === undefined || status >= 500) return ExitCode.Unavailable;
  if (status === 400 || status === 422) return ExitCode.Usage;
  return ExitCode.Error;
}
