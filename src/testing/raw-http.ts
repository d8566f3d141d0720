// Raw HTTP/1 on a socket, for tests that send what a well-behaved client never would: writes the bytes
// as given (optionally in pieces, with pauses), never half-closes, and reads until the peer closes.
import net from "node:net";
import type { Socket } from "node:net";
import tls from "node:tls";

export interface RawResult {
  /** Everything read. */
  data: string;
  /** Who ended the connection: "peer" (the other side closed) or "gave-up" (still open after `waitMs`). */
  closedBy: "peer" | "gave-up";
}

/** Sends `parts` (a pause of `gapMs` between them) and collects the answer until the peer closes the
 *  connection or `waitMs` passes. */
export function rawExchange(
  port: number,
  parts: Array<string | Buffer>,
  o: { tls?: tls.ConnectionOptions; gapMs?: number; waitMs?: number } = {},
): Promise<RawResult> {
  return new Promise((resolve) => {
    const s: Socket = o.tls
      ? tls.connect({ host: "127.0.0.1", port, ...o.tls })
      : net.connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let closedBy: RawResult["closedBy"] = "peer";
    const give = setTimeout(() => {
      closedBy = "gave-up";
      s.destroy();
    }, o.waitMs ?? 5000);
    s.on(o.tls ? "secureConnect" : "connect", () => {
      let i = 0;
      const next = () => {
        if (s.destroyed || i >= parts.length) return;
        s.write(parts[i++] as string | Buffer);
        if (i < parts.length) setTimeout(next, o.gapMs ?? 0);
      };
      next();
    });
    s.on("data", (d: Buffer) => chunks.push(d));
    // The peer closing its side ends the exchange (the test never half-closes its own).
    s.on("end", () => s.destroy());
    s.on("error", () => undefined);
    s.on("close", () => {
      clearTimeout(give);
      resolve({ data: Buffer.concat(chunks).toString("latin1"), closedBy });
    });
  });
}

/** The status codes of every response in `data`, in order (bodies must not look like status lines). */
export function statuses(data: string): number[] {
  return [...data.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1]));
}
