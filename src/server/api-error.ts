/**
 * The API's error vocabulary: every failure leaves the server as JSON `{ code, message, field? }` with a
 * stable `code` that clients may branch on. Named errors from src/errors.ts, Kubernetes API exceptions and
 * zod validation errors are all mapped here, in one place, so routes only throw.
 */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from 'zod';
import { InvalidSpecError, PavedError, PolicyViolationError } from '../errors.js';
import { toKubeApiError, type KubeApiError } from '../kube/index.js';

/** The stable error codes of the API. Never rename one; add new ones instead. */
export const ErrorCode = {
  Unauthenticated: 'Unauthenticated',
  Forbidden: 'Forbidden',
  NotFound: 'NotFound',
  InvalidSpec: 'InvalidSpec',
  BadRequest: 'BadRequest',
  Conflict: 'Conflict',
  PolicyViolation: 'PolicyViolation',
  NotReady: 'NotReady',
  PayloadTooLarge: 'PayloadTooLarge',
  TooManyRequests: 'TooManyRequests',
  KubernetesUnavailable: 'KubernetesUnavailable',
  Internal: 'Internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The JSON body of every error response. */
export interface ErrorBody {
  code: string;
  message: string;
  field?: string;
  details?: unknown;
}

/** Schema of the error body, for the OpenAPI document. */
export const ErrorBodySchema = z.object({
  code: z.string(),
  message: z.string(),
  field: z.string().optional(),
  details: z.unknown().optional(),
});

/** An error a route throws on purpose: carries the HTTP status and the JSON body. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ErrorCode,
    message: string,
    readonly field?: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message };
    if (this.field !== undefined) body.field = this.field;
    if (this.details !== undefined) body.details = this.details;
    return body;
  }
}

/** Shorthands for the errors routes throw most. */
export const unauthenticated = (message: string): ApiError => new ApiError(401, ErrorCode.Unauthenticated, message);
export const forbidden = (message: string): ApiError => new ApiError(403, ErrorCode.Forbidden, message);
export const notFound = (message: string): ApiError => new ApiError(404, ErrorCode.NotFound, message);
export const invalidSpec = (field: string, message: string): ApiError =>
  new ApiError(400, ErrorCode.InvalidSpec, `${field}: ${message}`, field);

/** Turns a zod error into a 400 naming the first offending field (a dotted JSON path). */
export function fromZodError(error: z.ZodError, prefix = ''): ApiError {
  // An unknown key is reported on its parent; name the key itself, which is what the person mistyped.
  const fieldOf = (i: z.core.$ZodIssue): string => {
    const path = i.path.map(String);
    if (i.code === 'unrecognized_keys' && i.keys[0]) path.push(i.keys[0]);
    return [prefix, ...path].filter(Boolean).join('.') || '(body)';
  };
  const issue = error.issues[0];
  const field = issue ? fieldOf(issue) : prefix || '(body)';
  const message = issue ? issue.message : 'invalid request';
  return new ApiError(400, ErrorCode.InvalidSpec, `${field}: ${message}`, field, {
    issues: error.issues.map((i) => ({ field: fieldOf(i), message: i.message })),
  });
}

/**
 * Maps an API server failure to an API error, keeping the API server's message and field. The message
 * is the Status message alone: the request line (`PATCH /apis/...`) stays in paved's logs.
 */
export function fromKubeError(err: KubeApiError): ApiError {
  const details = (err.details ?? {}) as { causes?: Array<{ field?: string; message?: string }> };
  const field = details.causes?.find((c) => c.field)?.field;
  const message = stripApiPaths(err.statusMessage || `Kubernetes answered ${err.statusCode} ${err.reason}`);
  switch (err.statusCode) {
    case 400:
    case 422:
      return new ApiError(400, ErrorCode.InvalidSpec, message, field, details.causes ? { causes: details.causes } : undefined);
    case 401:
    case 403:
      return new ApiError(403, ErrorCode.Forbidden, message);
    case 404:
      return new ApiError(404, ErrorCode.NotFound, message);
    case 409:
      return new ApiError(409, ErrorCode.Conflict, message);
    case 413:
      return new ApiError(413, ErrorCode.PayloadTooLarge, message);
    case 429:
      return new ApiError(429, ErrorCode.TooManyRequests, message);
    default:
      return new ApiError(502, ErrorCode.KubernetesUnavailable, message);
  }
}

/** Removes API server URL paths (`/apis/...`, `/api/v1/...`) from a message shown to callers. */
export function stripApiPaths(message: string): string {
  return message.replace(/(?:https?:\/\/[^\s"]+)?\/apis?\/[^\s"]*/g, '(Kubernetes API)');
}

/** Maps anything thrown to an API error. Unknown errors become 500 Internal without leaking internals. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof z.ZodError) return fromZodError(err);
  if (err instanceof InvalidSpecError) return new ApiError(400, ErrorCode.InvalidSpec, err.message, err.field);
  if (err instanceof PolicyViolationError) {
    return new ApiError(422, ErrorCode.PolicyViolation, err.message, err.violations[0]?.field, {
      violations: err.violations,
    });
  }
  const kube = toKubeApiError(err);
  if (kube) return fromKubeError(kube);
  if (err instanceof HTTPException) {
    const status = err.status;
    const code = status === 401 ? ErrorCode.Unauthenticated : status === 403 ? ErrorCode.Forbidden : ErrorCode.BadRequest;
    return new ApiError(status, code, err.message || 'bad request');
  }
  if (err instanceof PavedError) return new ApiError(500, ErrorCode.Internal, err.message);
  return new ApiError(500, ErrorCode.Internal, 'internal error');
}

/** Writes an API error as a JSON response. */
export function errorResponse(c: Context, err: ApiError): Response {
  return c.json(err.toBody(), err.status);
}
