// Tells an HTTP/2 client from an HTTP/1.x one on a (plaintext or terminated TLS) connection by its first
// bytes, without consuming them: HTTP/2 with prior knowledge starts with the connection preface
// `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n` (RFC 9113 §3.4). Ports of protocol http2 accept both, as Envoy's
// automatic codec does.
import type { Socket } from "node:net";

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** Whether `first` is (so far) a prefix of the preface; `complete` once all of it has arrived. */
export function prefaceMatch(first: Buffer): "no" | "partial" | "complete" {
  const n = Math.min(first.length, PREFACE.length);
  if (first.subarray(0, n).compare(PREFACE, 0, n) !== 0) return "no";
  return n === PREFACE.length ? "complete" : "partial";
}

/** Calls back with whether the client speaks HTTP/2; the bytes read are put back, the socket paused.
 *  A client that stays silent for `timeoutMs`, or closes, counts as HTTP/1.x. */
export function sniffPreface(socket: Socket, timeoutMs: number, cb: (h2: boolean) => void): void {
  let buf: Buffer | undefined;
  let settled = false;
  const finish = (h2: boolean) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.removeListener("data", onData);
    socket.removeListener("end", onGone);
    socket.removeListener("close", onGone);
    socket.pause();
    if (buf) socket.unshift(buf);
    cb(h2);
  };
  const onData = (chunk: Buffer) => {
    buf = buf ? Buffer.concat([buf, chunk]) : chunk;
    const m = prefaceMatch(buf);
    if (m !== "partial") finish(m === "complete");
  };
  const onGone = () => finish(false);
  const timer = setTimeout(onGone, timeoutMs);
  socket.on("data", onData);
  socket.once("end", onGone);
  socket.once("close", onGone);
  socket.resume();
}
