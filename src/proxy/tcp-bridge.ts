// Byte-for-byte TCP proxying between a downstream and an upstream socket: back-pressure (the reader is
// paused until the writer drains), half-close passed on (end → FIN on the other side), a reset or error
// on either side destroys the other, and an idle timeout closes both. The chunks one read delivers (a
// TLS socket hands its 16 KiB records over one by one) are written together: one writev, not one write
// per record. Byte counts come from the sockets' own counters when both have closed.
import type { Socket } from "node:net";

export interface BridgeResult {
  /** Bytes read from the downstream (Envoy's %BYTES_RECEIVED%). */
  received: number;
  /** Bytes written to the downstream (%BYTES_SENT%). */
  sent: number;
  idleTimeout: boolean;
}

/** True when a socket finished both directions cleanly (FIN each way), not by reset or destroy. */
function cleanlyDone(s: Socket): boolean {
  return s.readableEnded && s.writableFinished;
}

/** Copies `src` into `dst` until `src` ends, then ends `dst`. */
function forward(src: Socket, dst: Socket): void {
  let corked = false;
  const uncork = () => {
    corked = false;
    dst.uncork();
  };
  src.on("data", (chunk: Buffer) => {
    if (dst.destroyed) return;
    // Everything that arrives in this tick goes out in one write when the tick ends.
    if (!corked) {
      corked = true;
      dst.cork();
      process.nextTick(uncork);
    }
    if (!dst.write(chunk)) src.pause();
  });
  dst.on("drain", () => src.resume());
  src.once("end", () => {
    if (!dst.destroyed) dst.end();
  });
  // Protocol detection left the socket paused (its first bytes put back): flow from here.
  src.resume();
}

/**
 * Forwards both ways; `done` runs once, after both sockets have closed. Both sockets must allow half-open
 * connections, else one side's FIN would close the other direction too early.
 */
export function bridge(
  down: Socket,
  up: Socket,
  idleTimeoutMs: number,
  done: (r: BridgeResult) => void,
): void {
  let idleTimeout = false;
  let open = 2;
  const closed = (self: Socket, peer: Socket) => () => {
    // A side that went away without finishing both directions (reset, error, timeout) takes the peer with it.
    if (!cleanlyDone(self)) peer.destroy();
    if (--open === 0) done({ received: down.bytesRead, sent: up.bytesRead, idleTimeout });
  };
  down.once("close", closed(down, up));
  up.once("close", closed(up, down));
  down.on("error", () => up.destroy());
  up.on("error", () => down.destroy());
  // Activity in either direction reads or writes the downstream, so one timer covers both.
  if (idleTimeoutMs > 0) {
    down.setTimeout(idleTimeoutMs, () => {
      idleTimeout = true;
      down.destroy();
      up.destroy();
    });
  }
  forward(down, up);
  forward(up, down);
}
