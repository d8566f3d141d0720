// IST0101 ReferencedResourceNotFound: gateways, hosts, subsets and namespaces that a resource names but
// the input does not contain.
import type { DestinationRule } from "../../api/istio/destination-rule.js";
import type { Gateway } from "../../api/istio/gateway.js";
import type { ServiceEntry } from "../../api/istio/service-entry.js";
import type { Sidecar } from "../../api/istio/sidecar.js";
import type { Destination, VirtualService } from "../../api/istio/virtual-service.js";
import type { AnyResource } from "../../api/meta.js";
import { selectorMatches } from "../../policy/workload.js";
import { fqdn, hostMatches } from "../../api/hosts.js";
import type { Inventory } from "../inventory.js";
import type { AnalysisMessage } from "../message.js";
import { messageAbout } from "../message.js";

function message(r: AnyResource, text: string): AnalysisMessage {
  return messageAbout(r, "Error", "IST0101", text);
}

/** A host the registry knows, with its ports (Service ports, ServiceEntry port numbers). */
interface KnownHost {
  host: string;
  ports: number[];
}

function knownHosts(inv: Inventory): KnownHost[] {
  const hosts: KnownHost[] = [];
  for (const s of inv.services)
    hosts.push({
      host: fqdn(s.metadata.name, s.metadata.namespace ?? "default"),
      ports: (s.spec.ports ?? []).map((p) => p.port),
    });
  for (const se of inv.byKind("ServiceEntry") as unknown as ServiceEntry[])
    for (const h of se.spec.hosts ?? [])
      hosts.push({
        host: fqdn(h, se.metadata.namespace ?? "default"),
        ports: (se.spec.ports ?? []).map((p) => p.number),
      });
  return hosts;
}

function gatewayRefs(vs: VirtualService): string[] {
  const refs = new Set(vs.spec.gateways ?? []);
  for (const route of [...(vs.spec.http ?? []), ...(vs.spec.tls ?? []), ...(vs.spec.tcp ?? [])])
    for (const m of route.match ?? []) for (const g of m.gateways ?? []) refs.add(g);
  return [...refs];
}

/** Route destinations (http, tls, tcp) and HTTP mirrors, which Istio names "mirror" in its messages. */
function destinationsOf(vs: VirtualService): Array<{ d: Destination; mirror: boolean }> {
  const out: Array<{ d: Destination; mirror: boolean }> = [];
  for (const route of [...(vs.spec.http ?? []), ...(vs.spec.tls ?? []), ...(vs.spec.tcp ?? [])])
    for (const r of route.route ?? []) out.push({ d: r.destination, mirror: false });
  for (const h of vs.spec.http ?? []) {
    if (h.mirror) out.push({ d: h.mirror, mirror: true });
    for (const m of h.mirrors ?? []) out.push({ d: m.destination, mirror: true });
  }
  return out;
}

function checkVirtualService(inv: Inventory, vs: VirtualService, hosts: KnownHost[], out: AnalysisMessage[]) {
  const ns = vs.metadata.namespace ?? "default";
  const gateways = new Set(
    (inv.byKind("Gateway") as unknown as Gateway[]).map(
      (g) => `${g.metadata.namespace ?? "default"}/${g.metadata.name}`,
    ),
  );
  for (const ref of gatewayRefs(vs)) {
    if (ref === "mesh") continue;
    const full = ref.includes("/") ? ref : `${ns}/${ref}`;
    if (!gateways.has(full)) out.push(message(vs, `Referenced gateway not found: "${ref}"`));
  }
  const rules = inv.byKind("DestinationRule") as unknown as DestinationRule[];
  const seen = new Set<string>();
  for (const { d, mirror } of destinationsOf(vs)) {
    const host = fqdn(d.host, ns);
    const key = `${mirror}+${host}+${d.subset ?? ""}+${d.port?.number ?? ""}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const known = hosts.filter((h) => hostMatches(h.host, host));
    if (known.length === 0) {
      out.push(message(vs, `Referenced ${mirror ? "mirror host" : "host"} not found: "${d.host}"`));
      continue;
    }
    // A destination port must be one the service declares.
    const port = d.port?.number;
    if (port !== undefined && !known.some((h) => h.ports.includes(port)))
      out.push(message(vs, `Referenced host:port not found: "${d.host}:${port}"`));
    if (!d.subset) continue;
    const defined = rules.some(
      (dr) =>
        hostMatches(fqdn(dr.spec.host, dr.metadata.namespace ?? "default"), host) &&
        (dr.spec.subsets ?? []).some((s) => s.name === d.subset),
    );
    if (!defined)
      out.push(
        message(
          vs,
          `Referenced ${mirror ? "mirror" : "host"}+subset in destinationrule not found: "${d.host}+${d.subset}"`,
        ),
      );
  }
}

function checkNamespaces(inv: Inventory, r: AnyResource, names: Iterable<string>, out: AnalysisMessage[]) {
  for (const ns of names) {
    if (ns === "*" || ns === "." || ns === "~" || inv.namespaces.has(ns)) continue;
    out.push(message(r, `Referenced namespace not found: "${ns}"`));
  }
}

export function referencedResources(inv: Inventory): AnalysisMessage[] {
  const out: AnalysisMessage[] = [];
  const hosts = knownHosts(inv);
  for (const vs of inv.byKind("VirtualService") as unknown as VirtualService[])
    checkVirtualService(inv, vs, hosts, out);
  for (const sc of inv.byKind("Sidecar") as unknown as Sidecar[]) {
    const names = new Set<string>();
    for (const e of sc.spec.egress ?? []) for (const h of e.hosts ?? []) names.add(h.split("/")[0] ?? "");
    checkNamespaces(inv, sc, names, out);
  }
  for (const kind of ["VirtualService", "DestinationRule", "ServiceEntry"]) {
    for (const r of inv.byKind(kind)) {
      const exportTo = ((r["spec"] ?? {}) as { exportTo?: string[] }).exportTo ?? [];
      checkNamespaces(inv, r, exportTo, out);
    }
  }
  // A Gateway's selector picks gateway workloads in any namespace; check it only when workloads are known.
  if (inv.workloads.length > 0) {
    for (const g of inv.byKind("Gateway") as unknown as Gateway[]) {
      const sel = g.spec.selector;
      if (!sel || Object.keys(sel).length === 0) continue;
      if (inv.workloads.some((w) => selectorMatches(sel, w.labels))) continue;
      const shown = Object.entries(sel)
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
      out.push(message(g, `Referenced selector not found: "${shown}"`));
    }
  }
  return out;
}
