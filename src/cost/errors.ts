/**
 * Named errors of the cost API. Each maps to one HTTP status and a JSON body
 * `{ code, message, field }` (see routes.ts).
 */
import { PavedError } from '../errors.js';

/** A query parameter is invalid; `field` names it (`window`, `step`, `start`, `end`, ...). HTTP 400. */
export class CostInputError extends PavedError {
  override readonly name = 'CostInputError';
  readonly code = 'BadRequest';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** The named team does not exist (no Team resource). HTTP 404. */
export class TeamNotFoundError extends PavedError {
  override readonly name = 'TeamNotFoundError';
  readonly code = 'NotFound';
  readonly field = 'team';
  constructor(readonly team: string) {
    super(`team "${team}" not found`);
  }
}

/** The caller may not read this team's cost. HTTP 403. */
export class CostForbiddenError extends PavedError {
  override readonly name = 'CostForbiddenError';
  readonly code = 'Forbidden';
  readonly field = 'team';
  constructor(readonly team: string) {
    super(`not allowed to read the cost of team "${team}"`);
  }
}

/** Prometheus answered, but with an error for this query (bad data, execution error). HTTP 502. */
export class PrometheusRejectedError extends PavedError {
  override readonly name = 'PrometheusRejectedError';
  readonly code = 'PrometheusQueryFailed';
}

/**
 * One cost query failed: names the metric and the PromQL so the failure can be reproduced. 502 when
 * Prometheus rejected the query, 503 when it could not be reached or timed out.
 */
export class CostQueryError extends PavedError {
  override readonly name = 'CostQueryError';
  readonly code: 'PrometheusQueryFailed' | 'PrometheusUnavailable';
  readonly status: 502 | 503;
  constructor(
    readonly metric: string,
    readonly query: string,
    cause: unknown,
  ) {
    const rejected = cause instanceof PrometheusRejectedError;
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`the ${metric} query ${rejected ? 'was rejected by Prometheus' : 'could not be run (Prometheus unavailable)'}: ${reason}`, { cause });
    this.code = rejected ? 'PrometheusQueryFailed' : 'PrometheusUnavailable';
    this.status = rejected ? 502 : 503;
  }
}
