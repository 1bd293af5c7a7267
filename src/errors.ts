/**
 * Errors are values with names. Each carries what a person needs to act: the field, the reason,
 * and (via `cause`) what went wrong underneath. Reconcilers map them to conditions and Events,
 * the API maps them to JSON responses with a stable code.
 */

/** Base class: `code` is stable and machine-readable (also the JSON error code of the API). */
export abstract class PavedError extends Error {
  abstract readonly code: string;
}

/** Retrying cannot help: the input must change first. The work queue forgets the key. */
export class TerminalError extends PavedError {
  override readonly name = 'TerminalError';
  readonly code: string = 'Terminal';
}

/** A spec field is invalid: `field` is a JSON path such as `spec.scaling.minReplicas`. */
export class InvalidSpecError extends PavedError {
  override readonly name = 'InvalidSpecError';
  readonly code = 'InvalidSpec';
  constructor(
    readonly field: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`${field}: ${reason}`, options);
  }
}

/** A rendered object breaks a platform policy. */
export class PolicyViolationError extends PavedError {
  override readonly name = 'PolicyViolationError';
  readonly code = 'PolicyViolation';
  constructor(
    readonly violations: ReadonlyArray<{ policy: string; object: string; field: string; message: string }>,
  ) {
    super(violations.map((v) => `${v.policy}: ${v.object} ${v.field}: ${v.message}`).join('; '));
  }
}

/** Our informer cache is older than a write we made; requeue and read again. */
export class StaleCacheError extends PavedError {
  override readonly name = 'StaleCacheError';
  readonly code = 'StaleCache';
}

/** Prometheus could not be queried (down, timeout, bad response). */
export class PrometheusUnavailableError extends PavedError {
  override readonly name = 'PrometheusUnavailableError';
  readonly code = 'PrometheusUnavailable';
}

/** A local-cluster or tooling failure with a remedy a person can follow. */
export class SetupError extends PavedError {
  override readonly name = 'SetupError';
  readonly code = 'Setup';
  constructor(
    message: string,
    readonly remedy: string,
    readonly logTail: string = '',
    options?: ErrorOptions,
  ) {
    super(`${message}\n  remedy: ${remedy}${logTail ? `\n  last log lines:\n${indent(logTail)}` : ''}`, options);
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

/** Returns a short, loggable description of any thrown value. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
