/**
 * A loopback HTTP server standing in for the API server in unit tests of what goes on the wire
 * (impersonation and auth headers, content types, bodies): it records every request and answers with
 * the test's `respond`. Its kubeconfig authenticates with the bearer token `controller-token`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

/** One recorded request; header names lower-cased, in the order sent, repeats kept. */
export interface CapturedRequest {
  method: string;
  url: string;
  headers: Array<[string, string]>;
  body: string;
}

/** A running capture server. */
export interface HeaderCapture {
  /** Every request so far, oldest first. */
  readonly seen: CapturedRequest[];
  /** A kubeconfig pointing at the server, user token `controller-token`. */
  readonly kubeConfig: KubeConfig;
  stop(): Promise<void>;
}

function headerPairs(req: IncomingMessage): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) out.push([(req.rawHeaders[i] ?? '').toLowerCase(), req.rawHeaders[i + 1] ?? '']);
  return out;
}

/** Starts the server; `respond` writes the answer to each request (the request is recorded first). */
export async function startHeaderCapture(respond: (req: CapturedRequest, res: ServerResponse) => void): Promise<HeaderCapture> {
  const seen: CapturedRequest[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString('utf8')));
    req.on('end', () => {
      const captured = { method: req.method ?? '', url: req.url ?? '', headers: headerPairs(req), body };
      seen.push(captured);
      res.setHeader('content-type', 'application/json');
      respond(captured, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'controller-token' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return {
    seen,
    kubeConfig,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** The value of the first header named `name` (lower case) of a recorded request. */
export function headerOf(req: CapturedRequest, name: string): string | undefined {
  return req.headers.find(([k]) => k === name)?.[1];
}
