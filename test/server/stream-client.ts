/**
 * A small stream client for tests and the bench: connects with credentials in Sec-WebSocket-Protocol,
 * keeps every message, applies them to a local state, and tells how the socket closed.
 */
import WebSocket from 'ws';
import type { StreamMessage } from '../../src/server/hub.js';
import { applyDelta } from '../support/json-patch-oracle.js';

export interface ClientOptions {
  url: string;
  query: Record<string, string | number>;
  credential?: { bearer?: string; ticket?: string };
  autoPong?: boolean;
  /** The state a resumed client starts from (the previous connection's). */
  state?: ReadonlyMap<string, unknown>;
  /** The subprotocols offered besides the credential. Default `['paved.v1']`. */
  protocols?: string[];
}

export class StreamClient {
  readonly messages: StreamMessage[] = [];
  readonly state = new Map<string, unknown>();
  /** Messages that could not be applied to the state (a bug if not empty). */
  readonly applyErrors: string[] = [];
  closed: { code: number; reason: string } | undefined;
  rejected: number | undefined;
  /** The body of a refused handshake (JSON `{code, message}`), once read. */
  rejectedBody: Promise<string> | undefined;
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  onMessage?: (m: StreamMessage, receivedAt: number) => void;

  constructor(opts: ClientOptions) {
    for (const [k, v] of opts.state ?? []) this.state.set(k, v);
    const qs = new URLSearchParams(Object.entries(opts.query).map(([k, v]): [string, string] => [k, String(v)])).toString();
    const protocols = [...(opts.protocols ?? ['paved.v1'])];
    if (opts.credential?.bearer) protocols.push(`bearer.${opts.credential.bearer}`);
    if (opts.credential?.ticket) protocols.push(`ticket.${opts.credential.ticket}`);
    this.ws = new WebSocket(`${opts.url.replace(/^http/, 'ws')}/api/v1/stream?${qs}`, protocols, {
      autoPong: opts.autoPong ?? true,
      perMessageDeflate: false,
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => {
        this.rejected = res.statusCode;
        this.rejectedBody = new Promise((done) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
          res.on('error', () => done(Buffer.concat(chunks).toString('utf8')));
        });
        reject(new Error(`handshake rejected: ${res.statusCode}`));
      });
      this.ws.once('error', reject);
    });
    this.opened.catch(() => undefined);
    this.ws.on('message', (data) => {
      const m = JSON.parse((Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)).toString()) as StreamMessage;
      this.messages.push(m);
      try {
        this.apply(m);
      } catch (err) {
        this.applyErrors.push(`${m.type} ${m.seq}: ${String(err)}`);
      }
      this.onMessage?.(m, performance.now());
    });
    this.ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
    });
  }

  private apply(m: StreamMessage): void {
    if (m.type === 'snapshot') {
      this.state.clear();
      for (const v of m.services) this.state.set(v.key, v);
    } else if (m.type === 'service') this.state.set(m.key, m.view);
    else if (m.type === 'delta') this.state.set(m.key, applyDelta(this.state.get(m.key), m.ops));
    else if (m.type === 'removed') this.state.delete(m.key);
  }

  /** The last sequence number processed. */
  lastSeq(): number {
    return this.messages.at(-1)?.seq ?? 0;
  }

  /** The epoch of the first snapshot or resume marker. */
  epoch(): string {
    const m = this.messages.find((x) => x.type === 'snapshot' || x.type === 'resumed') as { epoch: string } | undefined;
    return m?.epoch ?? '';
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}
