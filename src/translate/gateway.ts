// The config of a gateway proxy (node id `router~…`): the Gateway servers that select its pod (by labels,
// in any namespace) become ports it listens on — server port N is served on the target port the gateway's
// Service maps N to (80 → 8080) — each with an outbound-style listener: HTTP servers get virtual hosts from
// the VirtualServices bound to the Gateway (merged per host, as Istio does for gateways), TLS PASSTHROUGH
// servers SNI routes, TCP servers tcp routes; terminated TLS from the server's `tls` (ISTIO_MUTUAL, or a
// credentialName Secret). Clusters are every registry entry visible in the gateway's namespace.
import type { Gateway, GatewayServer } from "../api/istio/gateway.js";
import { isHttpProtocol } from "../api/protocol.js";
import { selectorMatches } from "../policy/workload.js";
import type {
  GatewayPort,
  GatewayTls,
  HttpRoute,
  OutboundListener,
  ProxyCluster,
  VirtualHost,
} from "../proxy/proxy-config.js";
import { BLACKHOLE_CLUSTER, fixedClusters, routeClusterTracker, viewClusters } from "./clusters.js";
import type { RouteContext } from "./http-routes-translate.js";
import { translateHttpRoutes } from "./http-routes-translate.js";
import type { MeshIndex } from "./mesh-index.js";
import { findDestinationRule } from "./mtls.js";
import { sniRoutesOf, tcpRoutesOf } from "./outbound-l4.js";
import type { MeshWorkload } from "./snapshot-types.js";
import { keyOf } from "./snapshot-types.js";
import { gatewayCredential } from "./gateway-credentials.js";
import type { ResolvedVirtualService } from "./virtual-services.js";
import { hostsOverlap, virtualServicesForGateway } from "./virtual-services.js";
import { exportedTo } from "./visibility.js";

export interface GatewayPart {
  ports: GatewayPort[];
  listeners: OutboundListener[];
  clusters: ProxyCluster[];
  diagnostics: string[];
}

interface BoundServer {
  gateway: Gateway;
  key: string;
  server: GatewayServer;
  index: number;
}

/** The Gateways whose selector matches the workload's labels (any namespace). */
export function gatewaysSelecting(index: MeshIndex, w: MeshWorkload): Gateway[] {
  return index.snapshot.gateways.filter((g) => selectorMatches(g.spec.selector ?? {}, w.labels));
}

/** Server port → the target port a Service selecting the gateway pod maps it to; else the same number. */
export function targetPortOf(index: MeshIndex, w: MeshWorkload, serverPort: number): number {
  for (const s of index.snapshot.services) {
    if (s.namespace !== w.namespace) continue;
    const ep = s.endpoints.find((e) => e.podName === w.name);
    const mapped = ep?.targetPorts[String(serverPort)];
    if (mapped !== undefined) return mapped;
  }
  return serverPort;
}

/** A server host `ns/host` (a bare `host` admits any namespace): which VirtualService namespaces it admits, and the host. */
function splitHost(h: string, gatewayNs: string): { ns: string; host: string } {
  const i = h.indexOf("/");
  if (i < 0) return { ns: "*", host: h.toLowerCase() };
  const ns = h.slice(0, i);
  return { ns: ns === "." ? gatewayNs : ns, host: h.slice(i + 1).toLowerCase() };
}

function admits(server: GatewayServer, gatewayNs: string, vsNs: string, host: string): boolean {
  return (server.hosts ?? []).some((h) => {
    const s = splitHost(h, gatewayNs);
    return (s.ns === "*" || s.ns === vsNs) && hostsOverlap(s.host, host);
  });
}

const protocolOf = (s: GatewayServer) => (s.port?.protocol ?? "HTTP").toUpperCase();

/** HTTPS with a terminating mode is HTTP inside; TLS PASSTHROUGH (and HTTPS PASSTHROUGH) is routed by SNI. */
function serverKind(s: GatewayServer): "http" | "http2" | "passthrough" | "tcp" {
  const p = protocolOf(s);
  const mode = s.tls?.mode ?? "SIMPLE";
  if ((p === "TLS" || p === "HTTPS") && (mode === "PASSTHROUGH" || mode === "AUTO_PASSTHROUGH"))
    return "passthrough";
  if (p === "HTTPS") return "http";
  if (p === "TLS" || p === "TCP" || p === "MONGO" || p === "MYSQL" || p === "REDIS") return "tcp";
  if (p === "HTTP2" || p === "GRPC") return "http2";
  return isHttpProtocol(p as never) ? "http" : "tcp";
}

export function buildGateway(index: MeshIndex, w: MeshWorkload): GatewayPart {
  const diagnostics: string[] = [];
  const gwNs = w.namespace;
  const bound: BoundServer[] = [];
  for (const g of gatewaysSelecting(index, w))
    (g.spec.servers ?? []).forEach((server, i) =>
      bound.push({ gateway: g, key: keyOf(g.metadata), server, index: i }),
    );
  if (bound.length === 0)
    diagnostics.push(`no Gateway selects pod ${w.namespace}/${w.name}; it listens on no port`);

  // Clusters: every registry entry visible in the gateway's namespace (Sidecar resources do not scope gateways).
  const client = { namespace: gwNs, labels: w.labels };
  const clusters: ProxyCluster[] = fixedClusters();
  const portsByHost = new Map<string, number[]>();
  for (const view of index.views) {
    if (!exportedTo(view.exportTo, view.namespace, gwNs)) continue;
    if (portsByHost.has(view.host)) continue;
    portsByHost.set(
      view.host,
      view.ports.map((p) => p.port),
    );
    clusters.push(...viewClusters(index, view, findDestinationRule(index, view, client)));
  }
  const known = new Set(clusters.map((c) => c.name));
  const targets = routeClusterTracker(known, (h) => portsByHost.has(h), diagnostics);
  const context = (vs: ResolvedVirtualService, serverPort: number, keys: string[]): RouteContext => ({
    port: serverPort,
    client: { namespace: gwNs, labels: w.labels, gateways: keys },
    namespace: vs.namespace,
    origin: `VirtualService ${vs.key}`,
    portsOf: (h) => portsByHost.get(h),
    useCluster: targets.use(`VirtualService ${vs.key}`),
    diagnostics,
  });

  // Servers grouped by the port the proxy listens on.
  const byTarget = new Map<number, BoundServer[]>();
  for (const b of bound) {
    const n = b.server.port?.number;
    if (n === undefined) continue;
    const target = targetPortOf(index, w, n);
    byTarget.set(target, [...(byTarget.get(target) ?? []), b]);
  }
  const ports: GatewayPort[] = [];
  const listeners: OutboundListener[] = [];
  for (const [target, servers] of [...byTarget].sort(([a], [b]) => a - b)) {
    const first = servers[0]!;
    const serverPort = first.server.port!.number!;
    const kind = serverKind(first.server);
    const others = servers.filter((s) => serverKind(s.server) !== kind);
    for (const o of others)
      diagnostics.push(
        `Gateway ${o.key} servers[${o.index}]: port ${serverPort} is already served as ${kind} by Gateway ${first.key}; this server is skipped`,
      );
    const same = servers.filter((s) => serverKind(s.server) === kind);
    const keys = [...new Set(same.map((s) => s.key))];
    const name = `0.0.0.0_${target}`;
    const listener: OutboundListener = {
      name,
      address: "0.0.0.0",
      port: target,
      protocol: kind === "passthrough" ? "tls" : kind === "tcp" ? "tcp" : kind,
      cluster: kind === "tcp" || kind === "passthrough" ? BLACKHOLE_CLUSTER : undefined,
      tcpRoutes: [],
      virtualHosts: [],
      sniRoutes: [],
    };
    if (listener.cluster === undefined) delete listener.cluster;
    const vsList = virtualServicesForGateway(index.snapshot, gwNs, keys, diagnostics);
    if (kind === "http" || kind === "http2")
      listener.virtualHosts = virtualHostsOf(same, vsList, serverPort, gwNs, context);
    else {
      for (const vs of vsList) {
        const admitted = vs.hosts.some((h) => same.some((s) => admits(s.server, gwNs, vs.namespace, h)));
        if (!admitted) continue;
        const ctx = context(vs, serverPort, keys);
        if (kind === "passthrough") listener.sniRoutes.push(...sniRoutesOf(vs.vs.spec.tls ?? [], ctx));
        else listener.tcpRoutes.push(...tcpRoutesOf(vs.vs.spec.tcp ?? [], ctx));
      }
    }
    const tls: GatewayTls[] = [];
    if (kind !== "passthrough")
      for (const s of same) {
        const t = s.server.tls;
        if (!t || (protocolOf(s.server) !== "HTTPS" && protocolOf(s.server) !== "TLS")) continue;
        const hosts = (s.server.hosts ?? []).map((h) => splitHost(h, gwNs).host);
        const where = `Gateway ${s.key} servers[${s.index}]`;
        const mode = t.mode ?? "SIMPLE";
        if (mode === "ISTIO_MUTUAL") tls.push({ hosts, mode, subjectAltNames: [] });
        else if (mode === "SIMPLE" || mode === "MUTUAL" || mode === "OPTIONAL_MUTUAL") {
          // Istio: credentialName names a Secret in the gateway workload's namespace.
          const cred = gatewayCredential(index.snapshot, gwNs, t.credentialName);
          if (!cred.ok) {
            diagnostics.push(`${where}: ${cred.error}; the server accepts no TLS connection`);
            continue;
          }
          const ctx: GatewayTls = {
            hosts,
            mode: mode === "SIMPLE" ? "SIMPLE" : "MUTUAL",
            certificateChainPem: cred.cert,
            privateKeyPem: cred.key,
            subjectAltNames: t.subjectAltNames ?? [],
          };
          if (ctx.mode === "MUTUAL") {
            if (!cred.ca) {
              diagnostics.push(`${where}: MUTUAL needs a CA certificate (ca.crt or NAME-cacert); none found`);
              continue;
            }
            ctx.caCertificatesPem = cred.ca;
          }
          tls.push(ctx);
        } else diagnostics.push(`${where}: tls.mode ${mode} is not implemented`);
      }
    const terminating = same.some((s) => protocolOf(s.server) === "HTTPS" || protocolOf(s.server) === "TLS");
    // A TLS server with no usable certificate accepts nothing (fail closed) rather than plaintext.
    if (kind !== "passthrough" && terminating && tls.length === 0) continue;
    listeners.push(listener);
    ports.push({ port: target, serverPort, listener: name, tls });
  }
  clusters.push(...targets.unresolved());
  clusters.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { ports, listeners, clusters, diagnostics: [...new Set(diagnostics)] };
}

/** HTTP servers: one virtual host per VirtualService host a server admits, the http routes of every
 *  VirtualService naming that host merged in order (gateways merge, sidecars do not); `httpsRedirect`
 *  servers answer 301 to https instead. A host no VirtualService routes gets no virtual host (404). */
function virtualHostsOf(
  servers: readonly BoundServer[],
  vsList: readonly ResolvedVirtualService[],
  serverPort: number,
  gwNs: string,
  context: (vs: ResolvedVirtualService, port: number, keys: string[]) => RouteContext,
): VirtualHost[] {
  const byHost = new Map<string, HttpRoute[]>();
  const redirectHosts = new Set<string>();
  for (const s of servers)
    if (s.server.tls?.httpsRedirect)
      for (const h of s.server.hosts ?? []) redirectHosts.add(splitHost(h, gwNs).host);
  for (const vs of vsList) {
    const hosts = vs.hosts.filter((h) => servers.some((s) => admits(s.server, gwNs, vs.namespace, h)));
    if (hosts.length === 0) continue;
    const keys = [
      ...new Set(
        servers
          .filter((s) => vs.hosts.some((h) => admits(s.server, gwNs, vs.namespace, h)))
          .map((s) => s.key),
      ),
    ];
    const routes = translateHttpRoutes(vs.http, context(vs, serverPort, keys)).map(stripPort);
    if (routes.length === 0) continue;
    for (const h of hosts) byHost.set(h, [...(byHost.get(h) ?? []), ...routes]);
  }
  for (const h of redirectHosts) if (!byHost.has(h)) byHost.set(h, []);
  const out: VirtualHost[] = [];
  for (const [host, routes] of byHost) {
    const redirect = [...redirectHosts].some((r) => hostsOverlap(r, host));
    out.push({
      name: `${host}:${serverPort}`,
      domains: host === "*" ? ["*"] : [host, `${host}:${serverPort}`],
      routes: redirect
        ? [{ name: "https_redirect", matches: [], mirrors: [], redirect: { scheme: "https", code: 301 } }]
        : routes,
    });
  }
  // Exact hosts before wildcards; among wildcards the longer (more specific) first.
  const rank = (v: VirtualHost) => (v.domains[0]!.startsWith("*") ? 1_000 - v.domains[0]!.length : 0);
  return out.sort((a, b) => rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** `match.port` names the Gateway server port, already chosen here; the proxy sees the target port. */
function stripPort(r: HttpRoute): HttpRoute {
  return { ...r, matches: r.matches.map(({ port: _port, ...m }) => m) };
}
