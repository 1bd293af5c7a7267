/**
 * WebSocket text frames built once for many sockets (RFC 6455 §5.2). A server's frames are unmasked, so
 * one message is the same bytes on every socket: the stream frames it once and writes that buffer to
 * each socket, instead of ws framing it again per socket (header allocation, options, cork, writev).
 * Pure.
 */

/** FIN set, opcode 1 (text): a whole message in one frame. */
const FIN_TEXT = 0x81;

/** The complete frame (header and payload) of a text message. */
export function frameText(text: string): Buffer {
  const length = Buffer.byteLength(text, 'utf8');
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = FIN_TEXT;
  if (header === 2) frame[1] = length;
  else if (header === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  frame.write(text, header, 'utf8');
  return frame;
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
