// Byte-for-byte TCP proxying between a downstream and an upstream socket: back-pressure through pipe,
// half-close passed on (end → FIN on the other side), a reset or error on either side destroys the
// other, and an idle timeout closes both. One side may be a tunnel stream instead of a socket (an
// HTTP/2 CONNECT stream: END_STREAM is its FIN, RST_STREAM its reset).
import { Socket } from "node:net";
import type { Duplex } from "node:stream";

/** A socket, or a stream that carries one connection's bytes (with its own idle timer). */
export type ByteStream = Duplex & { setTimeout(ms: number, cb: () => void): unknown };

export interface BridgeResult {
  /** Bytes read from the downstream (Envoy's %BYTES_RECEIVED%). */
  received: number;
  /** Bytes written to the downstream (%BYTES_SENT%). */
  sent: number;
  idleTimeout: boolean;
}

/** True when a side finished both directions cleanly (FIN each way), not by reset or destroy. */
function cleanlyDone(s: Duplex): boolean {
  return s.readableEnded && s.writableFinished;
}

/**
 * The bytes the downstream sent and received, from a socket's own counters (bytes a protocol check read
 * and put back count once): no listener of ours runs per chunk. At least one side is a socket.
 */
function byteCounts(down: ByteStream, up: ByteStream): { received: number; sent: number } {
  if (down instanceof Socket)
    return { received: down.bytesRead, sent: up instanceof Socket ? up.bytesRead : down.bytesWritten };
  const app = up as unknown as Socket;
  return { received: app.bytesWritten, sent: app.bytesRead };
}

/**
 * Pipes both ways; `done` runs once, after both sockets have closed. Both sockets must allow half-open
 * connections, else one side's FIN would close the other direction too early.
 */
export function bridge(
  down: ByteStream,
  up: ByteStream,
  idleTimeoutMs: number,
  done: (r: BridgeResult) => void,
): void {
  const r: BridgeResult = { received: 0, sent: 0, idleTimeout: false };
  let open = 2;
  const closed = (self: ByteStream, peer: ByteStream) => () => {
    // A side that went away without finishing both directions (reset, error, timeout) takes the peer with it.
    if (!cleanlyDone(self)) peer.destroy();
    if (--open > 0) return;
    const counts = byteCounts(down, up);
    r.received = counts.received;
    r.sent = counts.sent;
    done(r);
  };
  down.once("close", closed(down, up));
  up.once("close", closed(up, down));
  down.on("error", () => up.destroy());
  up.on("error", () => down.destroy());
  // Activity in either direction reads or writes the downstream, so one timer covers both.
  if (idleTimeoutMs > 0) {
    down.setTimeout(idleTimeoutMs, () => {
      r.idleTimeout = true;
      down.destroy();
      up.destroy();
    });
  }
  down.pipe(up);
  up.pipe(down);
}
