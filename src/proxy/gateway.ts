// Gateway mode: the proxy binds the ports its config's `gateway` section lists (no capture), opening and
// closing them as configs change. Per connection: a port with TLS contexts terminates TLS (the context
// picked by SNI; ISTIO_MUTUAL with the mesh certificate and a verified mesh peer), a plaintext HTTP port
// also terminates mesh mTLS (sidecars reach gateway pods with auto mTLS), a passthrough port leaves the
// bytes untouched; then the port's outbound listener decides: HTTP per request (the gateway's
// authorization first), TLS by SNI and TCP to a cluster, after connection-level authorization.
// HTTP/1.1 connections (plaintext or terminated TLS) are read by the sidecars' fast adapter (llhttp into
// the pipeline); only HTTP/2 ones (prior knowledge) take the HTTP/2 server. Upstream, the fast path's one
// criterion applies (forward.ts): Upgrade/Expect requests, mirrored routes and clusters with
// per-connection pool limits go through Node's HTTP client instead of the raw pooled connections.
import net from "node:net";
import type { AddressInfo, Socket } from "node:net";
import { once } from "node:events";
import tls from "node:tls";
import type { TLSSocket } from "node:tls";
import { peerIdentity } from "../ca/peer-identity.js";
import { rbacDeniedDetails } from "../policy/authz-evaluate.js";
import { hostPort } from "./access-log.js";
import { clientHelloServerName, isMeshTls, parseClientHello } from "./client-hello.js";
import { clientSanAdmitted } from "./gateway-san.js";
import { ConnectionRecord } from "./connection-record.js";
import type { ProxyRuntime } from "./connection-record.js";
import { httpFor } from "./http-runtime.js";
import { sniffPreface } from "./http2-preface.js";
import type { DownstreamConnection } from "./http/exchange.js";
import { stripMapped } from "./inbound-connection.js";
import { routeToCluster } from "./outbound.js";
import { detectProtocol } from "./protocol-detect.js";
import type { GatewayPort, GatewayTls, OutboundListener } from "./proxy-config.js";
import { clusterFor } from "./routing-table.js";
import type { RoutingTable } from "./routing-table.js";

const noop = () => undefined;
const HANDSHAKE_TIMEOUT_MS = 10_000;

export interface GatewayListeners {
  /** Opens the ports the current config lists and closes the others; errors name the port. */
  sync(): Promise<string[]>;
  /** Ports now bound (config port → bound port; they differ only when tests bind port 0). */
  bound(): ReadonlyMap<number, number>;
  close(): Promise<void>;
}

export interface GatewayListenOptions {
  host: string;
  /** Config port → the port to bind (tests map to 0); default: the config port itself. */
  bindPort?: (port: number) => number;
  track: (handler: (s: Socket) => void) => (s: Socket) => void;
}

/** `*` matches any name (and no name); `*.example.com` any name under it; else the exact name. */
export function serverNameMatches(pattern: string, name: string | undefined): boolean {
  if (pattern === "*") return true;
  if (name === undefined) return false;
  const p = pattern.toLowerCase();
  const n = name.toLowerCase();
  return p.startsWith("*.") ? n.endsWith(p.slice(1)) : p === n;
}

/** The TLS context for a server name: Envoy picks the filter chain with the most specific server name. */
export function pickTls(contexts: readonly GatewayTls[], sni: string | undefined): GatewayTls | undefined {
  const score = (h: string) => (h === "*" ? 0 : h.startsWith("*.") ? h.length : 100_000);
  let best: GatewayTls | undefined;
  let bestScore = -1;
  for (const c of contexts)
    for (const h of c.hosts)
      if (serverNameMatches(h, sni) && score(h) > bestScore) {
        best = c;
        bestScore = score(h);
      }
  return best;
}

const MESH_TLS: GatewayTls = { hosts: ["*"], mode: "ISTIO_MUTUAL", subjectAltNames: [] };

interface Handshake {
  done: (err: string | undefined, s: TLSSocket | undefined) => void;
}

/** One TLS server per context (per config): it verifies client certificates the way the mode says. */
interface Terminator {
  server: tls.Server;
  pending: Map<string, Handshake>;
}

const terminators = new WeakMap<GatewayTls, Terminator>();
const endpointKey = (s: Socket) => `${s.remoteAddress}|${s.remotePort}`;

function terminatorOf(rt: ProxyRuntime, t: GatewayTls): Terminator {
  let term = terminators.get(t);
  if (term) return term;
  const mutual = t.mode !== "SIMPLE";
  const options: tls.TlsOptions =
    t.mode === "ISTIO_MUTUAL"
      ? {
          ca: rt.identity.rootsPem,
          // The workload's current certificate, so rotation applies to the next handshake.
          SNICallback: (_name, cb) => {
            try {
              cb(null, rt.identity.getSecureContext());
            } catch (err) {
              cb(err as Error, undefined);
            }
          },
        }
      : {
          cert: t.certificateChainPem,
          key: t.privateKeyPem,
          ...(t.mode === "MUTUAL" && t.caCertificatesPem ? { ca: t.caCertificatesPem } : {}),
        };
  const server = tls.createServer({
    ...options,
    requestCert: mutual,
    rejectUnauthorized: mutual,
    minVersion: "TLSv1.2",
    allowHalfOpen: true,
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
  });
  const pending = new Map<string, Handshake>();
  const take = (s: TLSSocket) => {
    const key = endpointKey(s);
    const h = pending.get(key);
    pending.delete(key);
    return h;
  };
  server.on("secureConnection", (s: TLSSocket) => {
    const h = take(s);
    if (!h) return void s.destroy();
    s.on("error", noop);
    h.done(undefined, s);
  });
  server.on("tlsClientError", (err: NodeJS.ErrnoException, s: TLSSocket) => {
    const h = take(s);
    s.destroy();
    h?.done(`TLS_error:${err.code ?? ""}:${err.message}`, undefined);
  });
  term = { server, pending };
  terminators.set(t, term);
  return term;
}

/** Terminates TLS on the socket; calls back with the TLS socket and the verified mesh principal. */
function terminate(
  rt: ProxyRuntime,
  t: GatewayTls,
  down: Socket,
  done: (err: string | undefined, s: TLSSocket | undefined, principal: string | undefined) => void,
): void {
  let term: Terminator;
  try {
    term = terminatorOf(rt, t);
  } catch (err) {
    return done(`TLS_error:bad server certificate: ${(err as Error).message}`, undefined, undefined);
  }
  let settled = false;
  const key = endpointKey(down);
  const onClose = () => finish("TLS_error:connection closed during handshake", undefined);
  const finish = (err: string | undefined, s: TLSSocket | undefined) => {
    if (settled) return;
    settled = true;
    term.pending.delete(key);
    down.removeListener("close", onClose);
    if (err || !s) return done(err ?? "TLS_error", undefined, undefined);
    if (t.mode === "MUTUAL" && t.subjectAltNames.length > 0) {
      // Envoy: a client certificate none of whose SANs is listed fails the handshake's validation.
      const san = s.getPeerCertificate().subjectaltname;
      if (!clientSanAdmitted(t.subjectAltNames, san)) {
        s.destroy();
        return done("TLS_error:client certificate SAN not in subjectAltNames", undefined, undefined);
      }
    }
    if (t.mode !== "ISTIO_MUTUAL") return done(undefined, s, undefined);
    // ISTIO_MUTUAL: the peer must be a workload of this mesh.
    const peer = peerIdentity(s);
    if (!peer || peer.identity.trustDomain !== rt.identity.trustDomain)
      return done(`TLS_error:peer identity not in ${rt.identity.trustDomain}`, undefined, undefined);
    done(undefined, s, peer.spiffeId.slice("spiffe://".length));
  };
  term.pending.set(key, { done: finish });
  down.once("close", onClose);
  term.server.emit("connection", down);
}

function proceed(
  rt: ProxyRuntime,
  table: RoutingTable,
  listener: OutboundListener,
  rec: ConnectionRecord,
  down: Socket,
  raw: Socket,
  dst: { address: string; port: number },
  peer: { principal: string | undefined; sni: string | undefined; tls: boolean },
): void {
  if (listener.protocol === "http" || listener.protocol === "http2") {
    rec.opened(listener.name);
    const conn: DownstreamConnection = {
      dst,
      remote: hostPort(raw.remoteAddress, raw.remotePort),
      local: hostPort(dst.address, dst.port),
      sourceIp: stripMapped(raw.remoteAddress),
      gateway: peer,
    };
    if (listener.protocol === "http") return httpFor(rt).gateway.serve(down, conn, listener.name, false);
    return sniffPreface(down, rt.detectTimeoutMs, (h2) =>
      httpFor(rt).gateway.serve(down, conn, listener.name, h2),
    );
  }
  // TCP and passthrough TLS: the gateway's policies judge the connection (HTTP-only rules do not apply).
  const decision = table.authz.tcp({
    port: dst.port,
    destinationIp: dst.address,
    ...(peer.principal ? { principal: peer.principal } : {}),
    ...(raw.remoteAddress ? { sourceIp: stripMapped(raw.remoteAddress) } : {}),
    ...(peer.sni ? { sni: peer.sni } : {}),
  });
  if (!decision.allow) {
    rec.opened(listener.name);
    return rec.refuse(down, { details: rbacDeniedDetails(decision), denied: true });
  }
  const cluster = clusterFor(listener, dst, peer.sni) ?? table.config.outbound.defaultCluster;
  routeToCluster(rt, table, rec, down, dst, cluster);
}

function onConnection(rt: ProxyRuntime, port: number, down: Socket): void {
  down.on("error", noop);
  down.setNoDelay(true);
  const rec = new ConnectionRecord(rt, down);
  const table = rt.table();
  const gp: GatewayPort | undefined = table?.config.gateway?.ports.find((p) => p.port === port);
  const listener = gp ? table?.listeners.get(gp.listener) : undefined;
  if (!table || !gp || !listener) return rec.refuse(down, { flag: "NR", details: "no_config" });
  const dst = { address: stripMapped(down.localAddress) ?? "0.0.0.0", port };
  rec.entry.downstreamLocal = hostPort(dst.address, port);
  detectProtocol(down, rt.detectTimeoutMs, (kind, hello) => {
    if (kind === "closed") return rec.refuse(down, {});
    const sni = kind === "tls" && hello ? clientHelloServerName(hello) : undefined;
    if (sni) rec.entry.sni = sni;
    const http = listener.protocol === "http" || listener.protocol === "http2";
    let t: GatewayTls | undefined;
    if (gp.tls.length > 0) {
      // A TLS server port: the client must speak TLS and name a host the port has a certificate for.
      if (kind !== "tls") return rec.refuse(down, { failure: "TLS_error:plaintext on a TLS port" });
      t = pickTls(gp.tls, sni);
      if (!t) return rec.refuse(down, { failure: `TLS_error:no certificate for ${sni ?? "(no SNI)"}` });
    } else if (kind === "tls" && http && hello && isMeshTls(parseClientHello(hello))) t = MESH_TLS;
    if (!t)
      return proceed(rt, table, listener, rec, down, down, dst, { principal: undefined, sni, tls: false });
    const tlsMode = t;
    terminate(rt, tlsMode, down, (err, s, principal) => {
      if (err || !s) return rec.refuse(down, { failure: err ?? "TLS_error" });
      s.allowHalfOpen = true;
      // The table may have changed during the handshake: the newest one routes.
      const now = rt.table() ?? table;
      const l = now.listeners.get(gp.listener) ?? listener;
      proceed(rt, now, l, rec, s, down, dst, { principal, sni: s.servername || sni, tls: true });
    });
  });
}

export function gatewayListeners(rt: ProxyRuntime, o: GatewayListenOptions): GatewayListeners {
  const servers = new Map<number, { server: net.Server; bound: number }>();
  const wanted = () => new Set((rt.table()?.config.gateway?.ports ?? []).map((p) => p.port));
  return {
    async sync() {
      const errors: string[] = [];
      const want = wanted();
      for (const [port, s] of servers)
        if (!want.has(port)) {
          servers.delete(port);
          s.server.close();
        }
      for (const port of want) {
        if (servers.has(port)) continue;
        const server = net.createServer(
          { allowHalfOpen: true },
          o.track((s) => onConnection(rt, port, s)),
        );
        server.listen({ port: o.bindPort ? o.bindPort(port) : port, host: o.host, backlog: 4096 });
        try {
          await Promise.race([
            once(server, "listening"),
            once(server, "error").then(([e]) => Promise.reject(e as Error)),
          ]);
          servers.set(port, { server, bound: (server.address() as AddressInfo).port });
        } catch (err) {
          errors.push(`gateway port ${port}: ${(err as Error).message}`);
        }
      }
      return errors;
    },
    bound: () => new Map([...servers].map(([port, s]) => [port, s.bound])),
    async close() {
      const all = [...servers.values()].map((s) => s.server);
      servers.clear();
      for (const s of all) s.close();
      await Promise.all(all.map((s) => (s.listening ? once(s, "close") : undefined)));
    },
  };
}
