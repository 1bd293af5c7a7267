/**
 * WebSocket text frames built once for many sockets (RFC 6455 §5.2). A server's frames are unmasked, so
 * one message is the same bytes on every socket: the stream frames it once and writes that buffer to
 * each socket, instead of ws framing it again per socket (header allocation, options, cork, writev).
 * Pure.
 */
import * as ws from 'ws';

/** ws's own framer (its `Sender` export, untyped in @types/ws): the header, then the payload. */
const { Sender } = ws as unknown as { Sender: { frame(this: void, data: Buffer, options: FrameOptions): Buffer[] } };

interface FrameOptions {
  fin: boolean;
  opcode: number;
  mask: boolean;
  readOnly: boolean;
  rsv1: boolean;
}

/** A whole text message in one frame, unmasked, uncompressed (permessage-deflate is off). */
const TEXT: FrameOptions = { fin: true, opcode: 0x1, mask: false, readOnly: false, rsv1: false };

/**
 * The complete frame (header and payload) of a text message, framed by ws and joined into one buffer,
 * so that each socket gets it in one write (one syscall) rather than ws's cork and two.
 */
export function frameText(text: string): Buffer {
  return Buffer.concat(Sender.frame(Buffer.from(text, 'utf8'), TEXT));
}

/**
 * The hub hands the same string to every subscriber in turn: a framer that keeps the last frame, so a
 * fan-out frames once, not once per socket.
 */
export function lastFrameEncoder(): (text: string) => Buffer {
  let lastText: string | undefined;
  let lastFrame: Buffer = Buffer.alloc(0);
  return (text) => {
    if (text !== lastText) {
      lastText = text;
      lastFrame = frameText(text);
    }
    return lastFrame;
  };
}
