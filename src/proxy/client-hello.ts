// Reads the server name (SNI) and the offered ALPN protocols from a TLS ClientHello, like Envoy's
// tls_inspector: SNI routing, the access log, and telling mesh mTLS (ALPN `istio*`) from an
// application's own TLS. Bounds-checked throughout: anything malformed or cut short gives undefined.

export interface ClientHelloInfo {
  serverName?: string;
  alpn?: string[];
}

function alpnList(b: Buffer, start: number, len: number): string[] | undefined {
  if (len < 2) return undefined;
  const end = start + 2 + b.readUInt16BE(start);
  if (end > start + len) return undefined;
  const out: string[] = [];
  for (let i = start + 2; i < end;) {
    const n = b[i] as number;
    if (i + 1 + n > end) return undefined;
    out.push(b.toString("latin1", i + 1, i + 1 + n));
    i += 1 + n;
  }
  return out;
}

export function parseClientHello(b: Buffer): ClientHelloInfo | undefined {
  // Record header (5) + handshake header (4): type 1 = ClientHello.
  if (b.length < 9 || b[0] !== 0x16 || b[5] !== 0x01) return undefined;
  let i = 9 + 2 + 32; // client_version, random
  const need = (n: number) => i + n <= b.length;
  if (!need(1)) return undefined;
  i += 1 + (b[i] as number); // session_id
  if (!need(2)) return undefined;
  i += 2 + b.readUInt16BE(i); // cipher_suites
  if (!need(1)) return undefined;
  i += 1 + (b[i] as number); // compression_methods
  if (!need(2)) return undefined;
  const declaredEnd = i + 2 + b.readUInt16BE(i);
  if (declaredEnd > b.length) return undefined;
  i += 2;
  const info: ClientHelloInfo = {};
  while (i + 4 <= declaredEnd) {
    const type = b.readUInt16BE(i);
    const len = b.readUInt16BE(i + 2);
    i += 4;
    if (i + len > declaredEnd) return undefined;
    if (type === 0 && len >= 5) {
      // server_name_list: list length (2), name_type (1, 0 = host_name), name length (2), name.
      const nameLen = b.readUInt16BE(i + 3);
      if (b[i + 2] !== 0 || i + 5 + nameLen > i + len) return undefined;
      info.serverName = b.toString("latin1", i + 5, i + 5 + nameLen).toLowerCase();
    } else if (type === 16) {
      const alpn = alpnList(b, i, len);
      if (alpn === undefined) return undefined;
      info.alpn = alpn;
    }
    i += len;
  }
  return info;
}

export function clientHelloServerName(b: Buffer): string | undefined {
  return parseClientHello(b)?.serverName;
}

/** The ALPN values Istio's inbound filter chains take for mesh mTLS (any other TLS is the app's own). */
export const MESH_ALPNS: readonly string[] = [
  "istio",
  "istio-peer-exchange",
  "istio-http/1.0",
  "istio-http/1.1",
  "istio-h2",
];

/** Mesh mTLS announces itself with one of the mesh ALPNs; `istio-foo` or `h2` alone is not mesh. */
export function isMeshTls(info: ClientHelloInfo | undefined): boolean {
  return info?.alpn?.some((p) => MESH_ALPNS.includes(p)) ?? false;
}
