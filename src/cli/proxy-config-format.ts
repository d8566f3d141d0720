// `shoal proxy-config` output in istioctl's shapes: clusters, listeners, endpoints and secrets of one
// proxy's ProxyConfig, as aligned tables (or the matching JSON section with -o json).
import type { CertificateInfo } from "../proxy/certificates.js";
import type { ProxyCluster, ProxyConfig } from "../proxy/proxy-config.js";

export type ProxyConfigSection = "cluster" | "listener" | "endpoint" | "secret" | "all";

export interface ClusterFilter {
  direction?: "inbound" | "outbound" | undefined;
  fqdn?: string | undefined;
  port?: number | undefined;
  subset?: string | undefined;
}

/** Left-aligned columns separated by at least three spaces, like istioctl's tabwriter output. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 3)))
      .join("")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

interface ClusterRow {
  fqdn: string;
  port: string;
  subset: string;
  direction: string;
  type: string;
  cluster: ProxyCluster;
}

/** `outbound|9000||tcp-echo.foo.svc.cluster.local` → its parts; special clusters have none. */
function clusterRow(c: ProxyCluster): ClusterRow {
  const parts = c.name.split("|");
  if (parts.length === 4) {
    const [direction, port, subset, host] = parts as [string, string, string, string];
    return { fqdn: host, port, subset: subset || "-", direction, type: c.type, cluster: c };
  }
  return {
    fqdn: c.name,
    port: "-",
    subset: "-",
    direction: "-",
    type: c.type === "BLACKHOLE" ? "STATIC" : c.type,
    cluster: c,
  };
}

export function filterClusters(config: ProxyConfig, f: ClusterFilter = {}): ProxyCluster[] {
  return config.clusters.filter((c) => {
    const r = clusterRow(c);
    if (f.direction && r.direction !== f.direction) return false;
    if (f.fqdn && r.fqdn !== f.fqdn) return false;
    if (f.port !== undefined && r.port !== String(f.port)) return false;
    if (f.subset && r.subset !== f.subset) return false;
    return true;
  });
}

export function formatClusters(config: ProxyConfig, f: ClusterFilter = {}): string {
  const rows = filterClusters(config, f)
    .map(clusterRow)
    .sort(
      (a, b) =>
        a.fqdn.localeCompare(b.fqdn) ||
        Number(a.port) - Number(b.port) ||
        a.direction.localeCompare(b.direction),
    )
    .map((r) => [r.fqdn, r.port, r.subset, r.direction, r.type === "STRICT_DNS" ? "STRICT_DNS" : r.type]);
  return table(["SERVICE FQDN", "PORT", "SUBSET", "DIRECTION", "TYPE"], rows);
}

export function formatListeners(config: ProxyConfig, port?: number): string {
  const rows: string[][] = [];
  const inboundTarget = (name: string) => `Cluster: ${name}`;
  // The capture listeners first, as istioctl lists 15001 and 15006 with the rest.
  rows.push(["0.0.0.0", "15001", "ALL", config.outbound.defaultCluster]);
  for (const chain of config.inbound.chains) {
    const match = chain.port === null ? "ALL (passthrough)" : `Addr: *:${chain.port}`;
    rows.push([
      "0.0.0.0",
      "15006",
      `${match}; ${chain.protocol}; mTLS ${chain.mtls.mode}`,
      inboundTarget(chain.name),
    ]);
  }
  for (const l of config.outbound.listeners) {
    let destination: string;
    if (l.cluster) destination = `Cluster: ${l.cluster}`;
    else if (l.protocol === "tls") destination = `SNI routes: ${l.sniRoutes.length}`;
    else destination = `Route: ${l.port}`;
    const match =
      l.protocol === "http" || l.protocol === "http2" ? "Trans: raw_buffer; App: http/1.1,h2c" : "ALL";
    rows.push([l.address, String(l.port), match, destination]);
  }
  const shown = port === undefined ? rows : rows.filter((r) => r[1] === String(port));
  return table(["ADDRESSES", "PORT", "MATCH", "DESTINATION"], shown);
}

/**
 * istioctl's endpoint table. An endpoint reached through the tunnel (HBONE) gets `HBONE:PORT` in a
 * trailing TUNNEL column, shown only when some listed endpoint tunnels (the columns before it keep their
 * places, so tables of configs without tunnels read exactly as before).
 */
export function formatEndpoints(config: ProxyConfig, clusterName?: string): string {
  const rows: string[][] = [];
  let tunneled = false;
  for (const c of config.clusters) {
    if (clusterName && c.name !== clusterName) continue;
    for (const e of c.endpoints) {
      if (e.tunnel) tunneled = true;
      rows.push([
        `${e.address}:${e.port}`,
        "HEALTHY",
        "OK",
        c.name,
        e.tunnel ? `HBONE:${e.tunnel.port}` : "-",
      ]);
    }
  }
  rows.sort((a, b) => (a[3] ?? "").localeCompare(b[3] ?? "") || (a[0] ?? "").localeCompare(b[0] ?? ""));
  const header = ["ENDPOINT", "STATUS", "OUTLIER CHECK", "CLUSTER"];
  if (tunneled) return table([...header, "TUNNEL"], rows);
  return table(
    header,
    rows.map((r) => r.slice(0, 4)),
  );
}

export function formatSecrets(secrets: CertificateInfo[] | undefined): string {
  if (!secrets || secrets.length === 0) return "no certificates reported by the proxy\n";
  return table(
    ["RESOURCE NAME", "TYPE", "STATUS", "VALID CERT", "SERIAL NUMBER", "NOT AFTER", "NOT BEFORE"],
    secrets.map((s) => [
      s.name,
      s.type,
      s.valid ? "ACTIVE" : "EXPIRED",
      String(s.valid),
      s.serialNumber,
      s.notAfter,
      s.notBefore,
    ]),
  );
}

/** The part of the config a section shows, for `-o json`. */
export function sectionJson(
  config: ProxyConfig,
  section: ProxyConfigSection,
  secrets: CertificateInfo[] | undefined,
  f: ClusterFilter = {},
): unknown {
  switch (section) {
    case "cluster":
      return filterClusters(config, f);
    case "listener":
      return { inbound: config.inbound.chains, outbound: config.outbound };
    case "endpoint":
      return config.clusters.flatMap((c) => c.endpoints.map((e) => ({ cluster: c.name, ...e })));
    case "secret":
      return secrets ?? [];
    case "all":
      return { config, secrets: secrets ?? [] };
  }
}

export function formatSection(
  config: ProxyConfig,
  section: ProxyConfigSection,
  secrets: CertificateInfo[] | undefined,
  f: ClusterFilter = {},
  port?: number,
): string {
  switch (section) {
    case "cluster":
      return formatClusters(config, f);
    case "listener":
      return formatListeners(config, port);
    case "endpoint":
      return formatEndpoints(config);
    case "secret":
      return formatSecrets(secrets);
    case "all":
      return [
        formatClusters(config, f),
        formatListeners(config),
        formatEndpoints(config),
        formatSecrets(secrets),
      ].join("\n");
  }
}
