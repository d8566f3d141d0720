// ServiceEntry → service views: one per host, with the entry's ports, addresses and endpoints by
// resolution (STATIC: the listed endpoints; DNS: the endpoints' names or the host itself; NONE: the
// connection's original destination), location and exportTo.
import type { ServiceEntry } from "../api/istio/service-entry.js";
import { parseCidr, parseIp } from "../api/ip.js";
import { portProtocol } from "../api/protocol.js";
import type { ServiceView, ViewEndpoint, ViewPort } from "./mesh-index.js";
import type { MeshSnapshot } from "./snapshot-types.js";
import { olderFirst } from "../api/meta.js";
import { selectorMatches } from "../policy/workload.js";

function endpointsOf(
  se: ServiceEntry,
  host: string,
  ports: ViewPort[],
  snapshot: MeshSnapshot,
): ViewEndpoint[] {
  const spec = se.spec;
  const resolution = spec.resolution ?? "NONE";
  const ns = se.metadata.namespace ?? "default";
  const portFor = (named: Readonly<Record<string, number>> | undefined) => {
    const out: Record<string, number> = {};
    for (const p of ports) {
      const sp = spec.ports?.find((x) => x.number === p.port);
      out[String(p.port)] = (p.name ? named?.[p.name] : undefined) ?? sp?.targetPort ?? p.port;
    }
    return out;
  };
  if (resolution === "NONE") return [];
  const selector = spec.workloadSelector?.labels;
  if (selector) {
    // workloadSelector: the selected pods in the entry's namespace are its endpoints.
    return snapshot.workloads
      .filter((w) => w.namespace === ns && w.ready && selectorMatches(selector, w.labels))
      .map((w) => ({
        address: w.ip,
        labels: w.labels,
        ports: portFor(undefined),
        pod: {
          namespace: w.namespace,
          name: w.name,
          serviceAccount: w.serviceAccount,
          hasSidecar: w.hasSidecar,
        },
      }));
  }
  const listed = (spec.endpoints ?? []).filter((e) => e.address && !e.address.startsWith("unix://"));
  if (listed.length === 0 && (resolution === "DNS" || resolution === "DNS_ROUND_ROBIN"))
    // DNS without endpoints resolves the host itself.
    return [{ address: host, labels: {}, ports: portFor(undefined) }];
  return listed.map((e) => ({
    address: e.address!,
    labels: Object.fromEntries(Object.entries(e.labels ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))),
    ports: portFor(e.ports),
    weight: e.weight,
  }));
}

export function serviceEntryViews(snapshot: MeshSnapshot): { views: ServiceView[]; diagnostics: string[] } {
  const views: ServiceView[] = [];
  const diagnostics: string[] = [];
  for (const se of [...snapshot.serviceEntries].sort(olderFirst)) {
    const spec = se.spec;
    const ns = se.metadata.namespace ?? "default";
    const origin = `ServiceEntry ${ns}/${se.metadata.name}`;
    const ports: ViewPort[] = [...(spec.ports ?? [])]
      .sort((a, b) => a.number - b.number)
      .map((p) => ({
        port: p.number,
        name: p.name,
        protocol: portProtocol({ appProtocol: p.protocol, name: p.name }),
      }));
    const addresses: string[] = [];
    const subnets: string[] = [];
    for (const a of spec.addresses ?? []) {
      if (parseIp(a)) addresses.push(a);
      else if (parseCidr(a)) subnets.push(a);
      else diagnostics.push(`${origin}: address ${a} is not an IP address or CIDR range; ignored`);
    }
    const resolution = spec.resolution ?? "NONE";
    for (const host of [...(spec.hosts ?? [])].map((h) => h.toLowerCase()).sort()) {
      views.push({
        source: "ServiceEntry",
        origin,
        host,
        namespace: ns,
        addresses,
        subnets,
        aliases: [],
        ports,
        endpoints: endpointsOf(se, host, ports, snapshot),
        clusterType: resolution === "NONE" ? "ORIGINAL_DST" : resolution === "STATIC" ? "EDS" : "STRICT_DNS",
        meshExternal: (spec.location ?? "MESH_EXTERNAL") === "MESH_EXTERNAL",
        exportTo: spec.exportTo ?? [],
        subjectAltNames: spec.subjectAltNames ?? [],
      });
    }
  }
  return { views, diagnostics };
}
