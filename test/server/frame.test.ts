/**
 * Frames built once for many sockets, read back by the real ws client: each length encoding (7-bit,
 * 16-bit, 64-bit) and multi-byte UTF-8, written to the TCP socket under a ws server connection.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { frameText, lastFrameEncoder } from '../../src/server/frame.js';

let server: WebSocketServer | undefined;
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

/** Writes the frames of `texts` to the raw socket of a ws connection; resolves with what the client read. */
async function roundTrip(texts: string[]): Promise<string[]> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  server = wss;
  await new Promise((resolve) => wss.once('listening', resolve));
  wss.on('connection', (_ws, req) => {
    for (const t of texts) req.socket.write(frameText(t));
  });
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { perMessageDeflate: false });
  const got: string[] = [];
  await new Promise<void>((resolve, reject) => {
    client.on('message', (data, isBinary) => {
      expect(isBinary).toBe(false);
      got.push((data as Buffer).toString('utf8'));
      if (got.length === texts.length) resolve();
    });
    client.on('error', reject);
  });
  client.terminate();
  return got;
}

describe('frameText', () => {
  it('frames text a ws client reads back whole, at every length encoding', async () => {
    const texts = ['', 'a', 'x'.repeat(125), 'y'.repeat(126), 'z'.repeat(65_535), 'w'.repeat(65_536), `{"m":"é✓🚀"}`.repeat(9_000)];
    expect(await roundTrip(texts)).toEqual(texts);
  });

  it('frames the same text once for a whole fan-out', () => {
    const frame = lastFrameEncoder();
    const a = frame('{"seq":1}');
    expect(frame('{"seq":1}')).toBe(a);
    expect(frame('{"seq":2}')).not.toBe(a);
  });
});
