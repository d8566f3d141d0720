// The server side of RFC 6455 as far as the exec channel protocols need it: the upgrade handshake with
// subprotocol choice, reading (masked, possibly fragmented) client frames, writing binary frames, close.
import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** Answers the upgrade with the first of `protocols` the client offered; undefined when none matches. */
export function acceptUpgrade(req: IncomingMessage, socket: Duplex, protocols: string[]): string | undefined {
  const offered = String(req.headers["sec-websocket-protocol"] ?? "")
    .split(",")
    .map((s) => s.trim());
  const chosen = protocols.find((p) => offered.includes(p));
  const key = String(req.headers["sec-websocket-key"] ?? "");
  if (!chosen || !key) return undefined;
  const accept = createHash("sha1")
    .update(key + GUID)
    .digest("base64");
  socket.write(
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ${chosen}\r\n\r\n`,
  );
  return chosen;
}

/** One frame (FIN set): opcode 2 binary, 8 close, 10 pong. */
export function frame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head =
    len < 126
      ? Buffer.from([0x80 | opcode, len])
      : len < 65536
        ? Buffer.from([0x80 | opcode, 126, len >> 8, len & 0xff])
        : Buffer.concat([Buffer.from([0x80 | opcode, 127]), bigLength(len)]);
  return Buffer.concat([head, payload]);
}

function bigLength(len: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(len));
  return b;
}

export interface Message {
  opcode: number;
  data: Buffer;
}

/** Reads frames from a byte stream; whole messages (fragments joined) go to `onMessage`. */
export class FrameReader {
  private buf = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private fragmentOpcode = 0;

  constructor(private readonly onMessage: (m: Message) => void) {}

  push(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (this.buf.length < 2) return;
      const b0 = this.buf[0]!;
      const b1 = this.buf[1]!;
      let len = b1 & 0x7f;
      let pos = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        pos = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        pos = 10;
      }
      const masked = (b1 & 0x80) !== 0;
      const maskAt = pos;
      if (masked) pos += 4;
      if (this.buf.length < pos + len) return;
      const data = Buffer.from(this.buf.subarray(pos, pos + len));
      if (masked) for (let i = 0; i < data.length; i++) data[i]! ^= this.buf[maskAt + (i % 4)]!;
      this.buf = this.buf.subarray(pos + len);
      const fin = (b0 & 0x80) !== 0;
      const opcode = b0 & 0x0f;
      if (opcode >= 8) {
        this.onMessage({ opcode, data });
        continue;
      }
      if (opcode !== 0) this.fragmentOpcode = opcode;
      this.fragments.push(data);
      if (fin) {
        this.onMessage({ opcode: this.fragmentOpcode, data: Buffer.concat(this.fragments) });
        this.fragments = [];
      }
    }
  }
}
