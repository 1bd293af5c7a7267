/**
 * API server failures as named errors, mapped by HTTP status code. Both our raw requests and
 * client-node's `ApiException` (typed clients, KubernetesObjectApi) map to `KubeApiError`.
 */
import { PavedError } from '../errors.js';

/** A non-2xx answer of the API server; `reason` is the Status reason (NotFound, Conflict, Forbidden...). */
export class KubeApiError extends PavedError {
  override readonly name = 'KubeApiError';
  readonly code = 'KubeApi';
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    message: string,
    readonly details?: unknown,
    options?: ErrorOptions & { statusMessage?: string },
  ) {
    super(message, options);
    this.statusMessage = options?.statusMessage ?? '';
  }

  /**
   * The API server's own Status message, without the request line paved adds to `message` (which
   * names internal API paths): what may be shown to an API caller.
   */
  readonly statusMessage: string;
}

const REASON_BY_CODE: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Gone',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

function parseBody(body: unknown): Record<string, unknown> | undefined {
  if (body && typeof body === 'object') return body as Record<string, unknown>;
  if (typeof body === 'string') {
    try {
      const parsed: unknown = JSON.parse(body);
      return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Builds a KubeApiError from a status code and a (JSON or text) Status body. */
export function kubeApiErrorFrom(statusCode: number, body: unknown, context = ''): KubeApiError {
  const status = parseBody(body);
  const reason = (typeof status?.reason === 'string' && status.reason) || REASON_BY_CODE[statusCode] || 'Unknown';
  const text = typeof status?.message === 'string' ? status.message : typeof body === 'string' ? body : '';
  const message = `${context ? `${context}: ` : ''}${statusCode} ${reason}${text ? `: ${text}` : ''}`;
  return new KubeApiError(statusCode, reason, message, status?.details, { statusMessage: text });
}

/** Maps any thrown value to a KubeApiError when it is one (or a client-node ApiException / watch error). */
export function toKubeApiError(err: unknown): KubeApiError | undefined {
  if (err instanceof KubeApiError) return err;
  if (!err || typeof err !== 'object') return undefined;
  const e = err as { code?: unknown; statusCode?: unknown; body?: unknown; message?: unknown };
  const code = typeof e.statusCode === 'number' ? e.statusCode : typeof e.code === 'number' ? e.code : undefined;
  if (code === undefined || code < 400 || code > 599) return undefined;
  const mapped = kubeApiErrorFrom(code, e.body ?? (typeof e.message === 'string' ? e.message : ''));
  return new KubeApiError(mapped.statusCode, mapped.reason, mapped.message, mapped.details, {
    cause: err,
    statusMessage: mapped.statusMessage,
  });
}

function hasStatus(err: unknown, code: number): boolean {
  return toKubeApiError(err)?.statusCode === code;
}

/** 404: the object (or its kind) does not exist. */
export const isNotFound = (err: unknown): boolean => hasStatus(err, 404);
/** 409 with reason Conflict: stale resourceVersion (optimistic concurrency). */
export const isConflict = (err: unknown): boolean => {
  const e = toKubeApiError(err);
  return e?.statusCode === 409 && e.reason !== 'AlreadyExists';
};
/** 409 with reason AlreadyExists. */
export const isAlreadyExists = (err: unknown): boolean => toKubeApiError(err)?.reason === 'AlreadyExists';
/** 403: RBAC (or admission) refused the request. */
export const isForbidden = (err: unknown): boolean => hasStatus(err, 403);
/** 410: the resourceVersion is too old (watch). */
export const isGone = (err: unknown): boolean => hasStatus(err, 410);
/** 422: the object failed validation (also a failed JSON-patch `test` op). */
export const isInvalid = (err: unknown): boolean => hasStatus(err, 422);
