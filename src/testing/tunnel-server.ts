// A small tunnel server for client tests on loopback: mutual TLS with ALPN `h2`, one HTTP/2 CONNECT
// stream per connection to the `:authority` it names, `:status 200` once that connection is made (503 when
// it is not, or the status it was told to refuse with), then the bytes both ways with half-close. It
// records handshakes, sessions, the authorities asked for and the client identities it saw.
import { once } from "node:events";
import http2 from "node:http2";
import type { Http2Session, ServerHttp2Stream } from "node:http2";
import net from "node:net";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { spiffeIdOf } from "../ca/peer-identity.js";
import { TUNNEL_MAX_SESSION_MEMORY_MB, TUNNEL_SETTINGS } from "../proxy/tunnel-pool.js";

export interface TestTunnelServer {
  port: number;
  /** TLS handshakes completed (resumed ones too). */
  handshakes: number;
  /** HTTP/2 sessions accepted. */
  sessions: number;
  /** `:authority` of every CONNECT stream, in order. */
  authorities: string[];
  /** The client SPIFFE id of each session. */
  peers: string[];
  /** Answer every CONNECT with this status instead of connecting (e.g. 403). */
  refuseWith: number | undefined;
  /** Never answer a CONNECT (the client's timeout must end it). */
  silent: boolean;
  /** Streams open now. */
  readonly openStreams: number;
  /** Sessions open now. */
  readonly openSessions: number;
  close(): Promise<void>;
}

export async function startTunnelServer(
  pem: { key: string; cert: string; ca: string },
  port = 0,
): Promise<TestTunnelServer> {
  const live = new Set<Http2Session>();
  const streams = new Set<ServerHttp2Stream>();
  const server = http2.createSecureServer({
    ...pem,
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: "TLSv1.2",
    ALPNProtocols: ["h2"],
    settings: TUNNEL_SETTINGS,
    maxSessionMemory: TUNNEL_MAX_SESSION_MEMORY_MB,
  });
  const t: TestTunnelServer = {
    port: 0,
    handshakes: 0,
    sessions: 0,
    authorities: [],
    peers: [],
    refuseWith: undefined,
    silent: false,
    get openStreams() {
      return streams.size;
    },
    get openSessions() {
      return live.size;
    },
    close: async () => {
      for (const s of live) s.destroy();
      server.close();
      if (server.listening) await once(server, "close");
    },
  };
  server.on("secureConnection", () => t.handshakes++);
  server.on("session", (session: Http2Session) => {
    t.sessions++;
    live.add(session);
    session.on("error", () => undefined);
    session.once("close", () => live.delete(session));
    t.peers.push(spiffeIdOf((session.socket as TLSSocket).getPeerX509Certificate()) ?? "(none)");
  });
  server.on("stream", (stream, headers) => {
    streams.add(stream);
    stream.on("error", () => undefined);
    stream.once("close", () => streams.delete(stream));
    const authority = headers[":authority"] ?? "";
    t.authorities.push(authority);
    if (headers[":method"] !== "CONNECT") return void stream.respond({ ":status": 405 }, { endStream: true });
    if (t.silent) return;
    if (t.refuseWith !== undefined)
      return void stream.respond({ ":status": t.refuseWith }, { endStream: true });
    const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(authority);
    if (!m) return void stream.respond({ ":status": 400 }, { endStream: true });
    const app = net.connect({ host: m[1] ?? m[2], port: Number(m[3]), allowHalfOpen: true });
    app.once("error", () => {
      if (!stream.headersSent) stream.respond({ ":status": 503 }, { endStream: true });
      else stream.close(http2.constants.NGHTTP2_CONNECT_ERROR);
    });
    app.once("connect", () => {
      stream.respond({ ":status": 200 });
      stream.pipe(app);
      app.pipe(stream);
    });
    stream.once("close", () => {
      if (!(stream.readableEnded && stream.writableFinished)) app.destroy();
    });
  });
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  t.port = (server.address() as AddressInfo).port;
  return t;
}
