import { once } from 'node:events';
import { request } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { FrameReader, clientControlFrame } from '../../bench/ws-reader.js';
import { frameText } from '../../src/server/frame.js';

const ping = (payload: string): Buffer => Buffer.concat([Buffer.from([0x89, payload.length]), Buffer.from(payload)]);

describe('bench FrameReader', () => {
  const stream = Buffer.concat([frameText('{"a":1}'), ping('hb'), frameText('x'.repeat(300)), frameText('y'.repeat(70_000)), Buffer.from([0x88, 0])]);

  it('counts text messages, answers pings with their payload and sees the close, however the bytes are split', () => {
    for (const size of [1, 2, 3, 7, 100, stream.length]) {
      const reader = new FrameReader();
      let messages = 0;
      const pongs: Buffer[] = [];
      let closed = false;
      for (let at = 0; at < stream.length; at += size) {
        const r = reader.read(stream.subarray(at, at + size));
        messages += r.messages;
        pongs.push(...r.pongs);
        closed ||= r.closed;
      }
      expect({ size, messages, pongs, closed }).toEqual({ size, messages: 3, pongs: [clientControlFrame(0xa, Buffer.from('hb'))], closed: true });
    }
  });

  it('refuses a masked frame (a server never sends one)', () => {
    expect(() => new FrameReader().read(Buffer.from([0x81, 0x81, 0, 0, 0, 0, 0x61]))).toThrow(/masked/);
  });

  it('talks to a ws server: its messages are counted and its pings answered', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(wss, 'listening');
    const port = (wss.address() as AddressInfo).port;
    const served = once(wss, 'connection');
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==' } });
    req.end();
    const [, socket, head] = (await once(req, 'upgrade')) as [unknown, Socket, Buffer];
    const [server] = (await served) as [import('ws').WebSocket];
    const reader = new FrameReader();
    let messages = 0;
    const onBytes = (chunk: Buffer): void => {
      const r = reader.read(chunk);
      messages += r.messages;
      for (const p of r.pongs) socket.write(p);
    };
    if (head.length > 0) onBytes(head);
    socket.on('data', onBytes);
    const pong = once(server, 'pong');
    server.send('one');
    server.send('two');
    server.ping(Buffer.from('x'));
    const [payload] = (await pong) as [Buffer];
    expect(payload.toString()).toBe('x');
    expect(messages).toBe(2);
    socket.destroy();
    wss.close();
  });
});
