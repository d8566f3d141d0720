// Byte-for-byte TCP proxying between a downstream and an upstream socket: back-pressure through pipe,
// half-close passed on (end → FIN on the other side), a reset or error on either side destroys the
// other, and an idle timeout closes both.
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

/**
 * Pipes both ways; `done` runs once, after both sockets have closed. Both sockets must allow half-open
 * connections, else one side's FIN would close the other direction too early.
 */
export function bridge(
  down: Socket,
  up: Socket,
  idleTimeoutMs: number,
  done: (r: BridgeResult) => void,
): void {
  const r: BridgeResult = { received: 0, sent: 0, idleTimeout: false };
  let open = 2;
  const closed = (self: Socket, peer: Socket) => () => {
    // A side that went away without finishing both directions (reset, error, timeout) takes the peer with it.
    if (!cleanlyDone(self)) peer.destroy();
    if (--open > 0) return;
    // The sockets' own counters (bytes a protocol check read and put back count once): no listener of
    // ours runs per chunk.
    r.received = down.bytesRead;
    r.sent = up.bytesRead;
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
