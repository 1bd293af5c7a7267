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
