/** REST calls under /api/v1 with the session's bearer token; errors keep the API's `code`, `message` and `field`. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export type TokenSource = () => string | null;

export interface Api {
  get<T>(path: string): Promise<T>;
  send<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T>;
  /** The subprotocols of a stream socket: a fresh single-use ticket when signed in. */
  streamProtocols(): Promise<string[]>;
}

async function failure(res: Response): Promise<ApiFailure> {
  const body = (await res.json().catch(() => ({}))) as { code?: string; message?: string; field?: string };
  return new ApiFailure(res.status, body.code ?? `HTTP${res.status}`, body.message ?? res.statusText, body.field);
}

export function createApi(token: TokenSource): Api {
  const headers = (json: boolean): Record<string, string> => {
    const t = token();
    return { ...(t ? { authorization: `Bearer ${t}` } : {}), ...(json ? { 'content-type': 'application/json' } : {}) };
  };
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`/api/v1${path}`, {
      method,
      headers: headers(body !== undefined),
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (!res.ok) throw await failure(res);
    return (await res.json()) as T;
  };
  return {
    get: (path) => call('GET', path),
    send: (method, path, body) => call(method, path, body),
    async streamProtocols() {
      if (!token()) return ['paved.v1'];
      const { ticket } = await call<{ ticket: string }>('POST', '/stream/tickets');
      return ['paved.v1', `ticket.${ticket}`];
    },
  };
}
