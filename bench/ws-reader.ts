/**
 * The bench's cheapest WebSocket client end (RFC 6455 §5.2): it reads a server's frames (unmasked) only
 * as far as counting text messages and answering pings, and never decodes a payload. A browser does its
 * receiving on its own machine; the bench's clients share the server's two cores, so what the client
 * process spends per message beyond reading the bytes is taken from the server. Pure apart from
 * `pong`, which the caller writes to the socket. It keeps no view of a chunk (a reader may reuse its buffer).
 */

const OP_TEXT = 0x1;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

/** What one chunk of socket bytes held. */
export interface ReadResult {
  /** Text messages completed in this chunk. */
  messages: number;
  /** Pong frames to write back (masked, as a client must), one per ping completed in this chunk. */
  pongs: Buffer[];
  /** True once a close frame arrived. */
  closed: boolean;
}

/** A masked client frame of `opcode` with `payload` (≤ 125 bytes: control frames only). */
export function clientControlFrame(opcode: number, payload: Buffer): Buffer {
  if (payload.length > 125) throw new Error('control frame payload over 125 bytes');
  // The mask key may be any value (it guards proxies, not secrecy); zero keeps the payload as it is.
  const frame = Buffer.alloc(6 + payload.length);
  frame[0] = 0x80 | opcode;
  frame[1] = 0x80 | payload.length;
  payload.copy(frame, 6);
  return frame;
}

/** Frame boundaries across chunks of one socket. */
export class FrameReader {
  /** Bytes of an incomplete header (a header can straddle chunks). */
  private head: Buffer | undefined;
  /** Payload bytes of the current frame still to come. */
  private left = 0;
  private opcode = 0;
  private fin = false;
  /** The payload of a ping being read (pongs echo it). */
  private control: Buffer[] | undefined;

  read(chunk: Buffer): ReadResult {
    const out: ReadResult = { messages: 0, pongs: [], closed: false };
    const data = this.head ? Buffer.concat([this.head, chunk]) : chunk;
    this.head = undefined;
    let at = 0;
    while (at < data.length) {
      if (this.left > 0) {
        const take = Math.min(this.left, data.length - at);
        if (this.control) this.control.push(Buffer.from(data.subarray(at, at + take)));
        at += take;
        this.left -= take;
        if (this.left === 0) this.endFrame(out);
        continue;
      }
      const header = headerAt(data, at);
      if (header === undefined) {
        this.head = Buffer.from(data.subarray(at));
        break;
      }
      at += header.size;
      this.fin = header.fin;
      this.opcode = header.opcode === 0 ? this.opcode : header.opcode;
      this.left = header.length;
      this.control = header.opcode === OP_PING ? [] : undefined;
      if (this.left === 0) this.endFrame(out);
    }
    return out;
  }

  private endFrame(out: ReadResult): void {
    if (this.opcode === OP_TEXT && this.fin) out.messages++;
    else if (this.opcode === OP_PING) out.pongs.push(clientControlFrame(OP_PONG, Buffer.concat(this.control ?? [])));
    else if (this.opcode === OP_CLOSE) out.closed = true;
    this.control = undefined;
  }
}

/** The header at `at`, or undefined when the chunk ends inside it. */
function headerAt(data: Buffer, at: number): { fin: boolean; opcode: number; length: number; size: number } | undefined {
  if (data.length - at < 2) return undefined;
  const b0 = data[at] as number;
  const b1 = data[at + 1] as number;
  if (b1 & 0x80) throw new Error('a server frame must not be masked');
  const short = b1 & 0x7f;
  const size = short < 126 ? 2 : short === 126 ? 4 : 10;
  if (data.length - at < size) return undefined;
  const length = short < 126 ? short : short === 126 ? data.readUInt16BE(at + 2) : Number(data.readBigUInt64BE(at + 2));
  return { fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, length, size };
}
