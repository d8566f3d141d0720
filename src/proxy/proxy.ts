// The proxy: as a sidecar, inbound (15006) and outbound (15001) capture listeners; as a gateway, the ports
// of its config's `gateway` section (gateway.ts); and the admin server, all running from one ProxyConfig
// that can be swapped atomically while connections flow.
import net from "node:net";
import type { AddressInfo } from "node:net";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import type http from "node:http";
import { ShoalError } from "../common/errors.js";
import type { OriginalDstLookup } from "../native/original-dst.js";
import { adminServer } from "./admin.js";
import type { CertificateInfo } from "./certificates.js";
import { describeCertificates } from "./certificates.js";
import { ConnectionLimit, defaultConnectionLimit, openFileLimit } from "./connection-limit.js";
import type { ProxyIdentity, ProxyRuntime } from "./connection-record.js";
import { inboundHandler } from "./inbound.js";
import { closeHttp } from "./http-runtime.js";
import { prometheusServer } from "./metrics-server.js";
import { outboundHandler } from "./outbound.js";
import type { ProxyConfig } from "./proxy-config.js";
import { PROXY_PORTS, parseProxyConfig } from "./proxy-config.js";
import type { RoutingTable } from "./routing-table.js";
import { buildRoutingTable } from "./routing-table.js";
import { ProxyStats } from "./stats.js";
import { SessionCache } from "./tls-sessions.js";
import { closeTunnels } from "./tunnel-pool.js";

export type { ProxyIdentity } from "./connection-record.js";

export interface ProxyPorts {
  inbound?: number;
  outbound?: number;
  /** null: no admin server. */
  admin?: number | null;
  /** Prometheus `/stats/prometheus` (default 15090); null: none. */
  prometheus?: number | null;
}

export interface StartProxyOptions {
  /** The first config; undefined starts a proxy that accepts nothing until `updateConfig`. */
  config?: ProxyConfig | undefined;
  identity: ProxyIdentity;
  /** Original destination of an intercepted socket (the native addon; tests pass a fake). */
  originalDst: OriginalDstLookup;
  ports?: ProxyPorts;
  /** Address the capture listeners bind (default 0.0.0.0; capture redirects to the pod's own address). */
  host?: string;
  /** Address the Prometheus server binds (default: `host`, else 0.0.0.0, as in a pod). */
  prometheusHost?: string;
  /** Writes one access log line (no trailing newline). */
  log: (line: string) => void;
  /** Idle timeout of a proxied TCP connection (default 1 h; 0 disables). */
  idleTimeoutMs?: number;
  /** How long a silent client may wait before it is treated as plaintext (default 1 s). */
  detectTimeoutMs?: number;
  /** Most downstream connections open at once over all listeners; over it a new one is closed at once.
   *  Default: sized from the process's open-file limit (see connection-limit.ts). */
  maxConnections?: number;
  /** Writes one structured event line (default: stderr); used for the connection limit's warnings. */
  warn?: (line: string) => void;
  /** Gateway mode: no capture listeners; the config's gateway ports instead. */
  gateway?: {
    /** Config port → port to bind (tests bind 0); default the config's port. */
    bindPort?: (port: number) => number;
    /** Reports a gateway port that could not be opened. */
    onError?: (message: string) => void;
  };
}

export interface Proxy {
  readonly ports: {
    inbound: number;
    outbound: number;
    admin: number | undefined;
    prometheus: number | undefined;
  };
  /** Gateway mode: config port → bound port, for the ports open now. */
  gatewayPorts(): ReadonlyMap<number, number>;
  readonly stats: ProxyStats;
  config(): ProxyConfig | undefined;
  /** The workload certificate and mesh roots now (what the admin's /certs shows). */
  certificates(): CertificateInfo[];
  /** Checks and swaps the config; new connections use it at once. Throws (keeping the old one) when bad. */
  updateConfig(config: unknown): void;
  close(): Promise<void>;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 3_600_000;

const noReject = () => undefined;

/** Checks a config and builds its table; the previous table's cluster state (breaker counts, ejections)
 *  carries over to clusters that are still there. */
function compile(input: unknown, previous?: RoutingTable): RoutingTable {
  const parsed = parseProxyConfig(input);
  if (!parsed.ok)
    throw new ShoalError("PROXY_CONFIG_INVALID", `config rejected: ${parsed.errors.join("; ")}`);
  return buildRoutingTable(parsed.config, previous);
}

export async function startProxy(o: StartProxyOptions): Promise<Proxy> {
  let table = o.config ? compile(o.config) : undefined;
  const stats = new ProxyStats();
  const rt: ProxyRuntime = {
    table: () => table,
    identity: o.identity,
    originalDst: o.originalDst,
    stats,
    log: o.log,
    idleTimeoutMs: o.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    detectTimeoutMs: o.detectTimeoutMs ?? 1000,
    sessions: new SessionCache(),
  };
  const inbound = inboundHandler(rt);
  const sockets = new Set<net.Socket>();
  const host = o.host ?? "0.0.0.0";
  const limit = new ConnectionLimit(o.maxConnections ?? defaultConnectionLimit(ownOpenFileLimit()));
  const refuse = overflowReporter(limit, stats, host, o.warn ?? ((line) => console.error(line)));
  const track = (handler: (s: net.Socket) => void) => (s: net.Socket) => {
    if (!limit.admit()) return refuse(s);
    sockets.add(s);
    s.once("close", () => {
      sockets.delete(s);
      limit.release();
    });
    handler(s);
  };
  const inServer = net.createServer({ allowHalfOpen: true }, track(inbound.onConnection));
  const outServer = net.createServer({ allowHalfOpen: true }, track(outboundHandler(rt)));
  const certificates = (): CertificateInfo[] => {
    const chain = o.identity.chainPem;
    return chain ? describeCertificates(chain, o.identity.rootsPem, new Date()) : [];
  };
  const admin: http.Server | undefined =
    o.ports?.admin === null ? undefined : adminServer({ config: () => table?.config, stats, certificates });
  const prometheus = o.ports?.prometheus === null ? undefined : prometheusServer(stats.mesh);
  const listen = async (server: net.Server, port: number, addr: string) => {
    server.listen({ port, host: addr, backlog: 4096 });
    await Promise.race([once(server, "listening"), once(server, "error").then(([e]) => Promise.reject(e))]);
    return (server.address() as AddressInfo).port;
  };
  const servers: net.Server[] = [];
  // Gateway code is loaded only by gateways: a sidecar never needs it.
  const gateway = o.gateway
    ? (await import("./gateway.js")).gatewayListeners(rt, {
        host,
        track,
        ...(o.gateway.bindPort ? { bindPort: o.gateway.bindPort } : {}),
      })
    : undefined;
  const report = o.gateway?.onError ?? (() => undefined);
  const syncGateway = () => gateway?.sync().then((errors) => errors.forEach(report), noReject);
  try {
    // A gateway captures nothing: it listens only on its Gateway servers' ports.
    let inPort = 0;
    let outPort = 0;
    if (!gateway) {
      inPort = await listen(inServer, o.ports?.inbound ?? PROXY_PORTS.inboundCapture, host);
      servers.push(inServer);
      outPort = await listen(outServer, o.ports?.outbound ?? PROXY_PORTS.outboundCapture, host);
      servers.push(outServer);
    } else (await gateway.sync()).forEach(report);
    let adminPort: number | undefined;
    if (admin) {
      adminPort = await listen(admin, o.ports?.admin ?? PROXY_PORTS.admin, "127.0.0.1");
      servers.push(admin);
    }
    let prometheusPort: number | undefined;
    if (prometheus) {
      const port = o.ports?.prometheus ?? PROXY_PORTS.prometheus;
      prometheusPort = await listen(prometheus, port, o.prometheusHost ?? host);
      servers.push(prometheus);
    }
    return {
      ports: { inbound: inPort, outbound: outPort, admin: adminPort, prometheus: prometheusPort },
      gatewayPorts: () => gateway?.bound() ?? new Map(),
      stats,
      config: () => table?.config,
      certificates,
      updateConfig(config: unknown) {
        // Built completely first, then swapped in one assignment: a connection sees one config or the other.
        table = compile(config, table);
        void syncGateway();
      },
      async close() {
        await gateway?.close();
        inbound.close();
        closeHttp(rt);
        closeTunnels(rt);
        for (const s of servers) s.close();
        for (const s of sockets) s.destroy();
        admin?.closeAllConnections();
        prometheus?.closeAllConnections();
        await Promise.all(servers.map((s) => (s.listening ? once(s, "close") : undefined)));
      },
    };
  } catch (err) {
    for (const s of servers) s.close();
    await gateway?.close();
    inbound.close();
    closeHttp(rt);
    throw err;
  }
}

function ownOpenFileLimit(): number | undefined {
  try {
    return openFileLimit(readFileSync("/proc/self/limits", "utf8"));
  } catch {
    return undefined;
  }
}

/** How many refusals between two warnings at most, and how long at least. */
const WARN_EVERY_MS = 10_000;

/** Closes a connection over the limit at once, counts it for its listener, and warns (rate-limited: a
 *  flood of refusals writes one line per interval with the count since the last line). */
function overflowReporter(
  limit: ConnectionLimit,
  stats: ProxyStats,
  host: string,
  warn: (l: string) => void,
) {
  let lastWarn = -Infinity;
  let since = 0;
  return (s: net.Socket) => {
    const listener = `${host}_${s.localPort ?? 0}`;
    s.on("error", () => undefined);
    s.destroy();
    stats.listenerOverflow(listener);
    since++;
    const now = performance.now();
    if (now - lastWarn < WARN_EVERY_MS) return;
    lastWarn = now;
    warn(
      JSON.stringify({
        event: "connection_limit_reached",
        listener,
        limit: limit.max,
        active: limit.active,
        refused: since,
      }),
    );
    since = 0;
  };
}
