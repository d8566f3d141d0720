// Tells TLS from plaintext by the first bytes of a connection without consuming them (the bytes are put
// back for whoever reads next), like Envoy's tls_inspector; for TLS it waits for the whole first record
// (the ClientHello) so its SNI and ALPN can be read. A client that says nothing within the timeout (a
// server-first protocol) is treated as plaintext.
import type { Socket } from "node:net";

export type Detected = "tls" | "plaintext" | "closed";

/** The largest TLS record: 16 KiB of payload plus some expansion, plus the 5-byte header. */
const MAX_RECORD = 5 + 16384 + 2048;

/** A TLS record starts with content type 22 (handshake) and major version 3. */
export function looksLikeTls(first: Buffer): boolean {
  return first[0] === 0x16 && (first.length < 2 || first[1] === 0x03);
}

/** Calls back with the kind and the bytes read so far (already put back on the socket). */
export function detectProtocol(
  socket: Socket,
  timeoutMs: number,
  cb: (d: Detected, first: Buffer | undefined) => void,
): void {
  let settled = false;
  let buf: Buffer | undefined;
  const kind = (): Detected => (buf === undefined ? "plaintext" : looksLikeTls(buf) ? "tls" : "plaintext");
  const finish = (d: Detected) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.removeListener("data", onData);
    socket.removeListener("end", onGone);
    socket.removeListener("close", onGone);
    socket.pause();
    if (buf) socket.unshift(buf);
    cb(d, buf);
  };
  const onData = (chunk: Buffer) => {
    buf = buf ? Buffer.concat([buf, chunk]) : chunk;
    if (!looksLikeTls(buf)) return finish("plaintext");
    if (buf.length < 5) return;
    if (buf.length >= Math.min(MAX_RECORD, 5 + buf.readUInt16BE(3))) finish("tls");
  };
  const onGone = () => finish(buf ? kind() : "closed");
  const timer = setTimeout(() => finish(kind()), timeoutMs);
  socket.on("data", onData);
  socket.once("end", onGone);
  socket.once("close", onGone);
}
