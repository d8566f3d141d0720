// `x authz check`, the pure part: would this request to this workload be allowed, which rule decided,
// and why each policy that applies did or did not match. Works on manifests, no cluster needed.
import type { AuthorizationPolicy } from "../api/istio/authorization-policy.js";
import type { PeerAuthentication } from "../api/istio/peer-authentication.js";
import { isHttpProtocol } from "../api/protocol.js";
import { authzApplies, isDryRun } from "../policy/applicability.js";
import { compileAuthz } from "../policy/authz-compile.js";
import { evaluate, rbacDeniedDetails } from "../policy/authz-evaluate.js";
import type { PathNormalization } from "../policy/path.js";
import { normalizePath } from "../policy/path.js";
import type { AuthzRequest, HttpAttributes, TraceEntry } from "../policy/authz-types.js";
import type { PeerAuthnResult } from "../policy/peer-authn.js";
import { acceptsConnection, effectivePeerAuthn } from "../policy/peer-authn.js";
import type { DeclaredPort, Inventory, InventoryWorkload } from "./inventory.js";
import { declaredPorts } from "./inventory.js";
import { meshFromResources } from "../mesh-config/sources.js";
import type { MeshConfig } from "../translate/snapshot-types.js";

export type AuthzTarget =
  { pod: string; namespace: string } | { namespace: string; labels: Record<string, string> };

export interface AuthzQuery {
  target: AuthzTarget;
  port: number;
  protocol?: "tcp" | "http" | undefined;
  /** Peer SPIFFE id without scheme; undefined = plaintext. */
  principal?: string | undefined;
  sourceIp?: string | undefined;
  remoteIp?: string | undefined;
  sni?: string | undefined;
  http?: Partial<HttpAttributes> | undefined;
}

export interface AppliedPolicy {
  policy: string;
  action: string;
  why: string;
  dryRun: boolean;
}

export interface AuthzCheckResult {
  decision: "ALLOW" | "DENY";
  policy: string | null;
  rule: number | null;
  reason: string;
  mtlsMode: PeerAuthnResult["mode"];
  mtls: PeerAuthnResult;
  workload: { source: string; namespace: string; labels: Record<string, string> };
  port: number;
  protocol: "tcp" | "http";
  /** Where the protocol came from (a Service port, or "no Service declares the port"). */
  protocolSource: string;
  applied: AppliedPolicy[];
  /** Envoy's RBAC detail string for a denial, as the access log shows it. */
  rbacDetails: string | null;
  /** HTTP: the path as sent, the path policies were matched against, and the normalization used. */
  path: { raw: string; normalized: string; normalization: PathNormalization } | null;
  trace: TraceEntry[];
}

/** Finds the workload a query names: a Pod or Deployment by name, or a namespace + labels. */
export function findWorkload(inv: Inventory, target: AuthzTarget): InventoryWorkload | undefined {
  if ("pod" in target) {
    const inNs = inv.workloads.filter((w) => w.namespace === target.namespace);
    // By Pod/Deployment name, else by the `app` label (`details` finds Deployment details-v1).
    const byName = inNs.find((w) => w.name === target.pod);
    if (byName) return byName;
    const byApp = inNs.filter((w) => w.labels["app"] === target.pod);
    return byApp.length === 1 ? byApp[0] : undefined;
  }
  return {
    source: "labels",
    name: "(labels)",
    namespace: target.namespace,
    labels: target.labels,
    serviceAccount: "default",
    containers: [],
  };
}

function protocolFor(decls: DeclaredPort[], port: number): { protocol: "tcp" | "http"; source: string } {
  const d = decls.find((x) => x.targetPort === port);
  // A port no Service declares goes through the passthrough chain: TCP.
  if (!d) return { protocol: "tcp", source: `no Service declares port ${port} (passthrough chain, TCP)` };
  return {
    protocol: isHttpProtocol(d.protocol) ? "http" : "tcp",
    source: `Service ${d.service} port "${d.portName ?? ""}" (${d.port} → ${d.targetPort}) is ${d.protocol}`,
  };
}

/**
 * `mesh`: the mesh config to decide under; a string is the root namespace alone; absent = the `istio`
 * ConfigMap among the resources, else Istio's defaults (what the cluster's proxies run with).
 */
export function checkAuthz(
  inv: Inventory,
  w: InventoryWorkload,
  q: AuthzQuery,
  mesh?: string | Partial<MeshConfig>,
): AuthzCheckResult {
  const fromResources = meshFromResources(inv.byKind("ConfigMap")).mesh;
  const m: MeshConfig =
    typeof mesh === "string" ? { ...fromResources, rootNamespace: mesh } : { ...fromResources, ...mesh };
  const rootNamespace = m.rootNamespace;
  const authzOptions = {
    rootNamespace,
    pathNormalization: m.pathNormalization,
    trustDomains: { trustDomain: m.trustDomain, aliases: m.trustDomainAliases },
  };
  const policies = inv.byKind("AuthorizationPolicy") as unknown as AuthorizationPolicy[];
  const peerPolicies = inv.byKind("PeerAuthentication") as unknown as PeerAuthentication[];
  const detected = protocolFor(declaredPorts(inv, w), q.port);
  const protocol = q.protocol ?? detected.protocol;
  const protocolSource = q.protocol ? `given with --protocol (${detected.source})` : detected.source;
  const mtls = effectivePeerAuthn(peerPolicies, w, q.port, { rootNamespace });
  const applied: AppliedPolicy[] = [];
  for (const p of policies) {
    const a = authzApplies(p, w, { rootNamespace });
    if (a.applies)
      applied.push({
        policy: `${p.metadata.namespace}/${p.metadata.name}`,
        action: p.spec.action ?? "ALLOW",
        why: a.why,
        dryRun: isDryRun(p),
      });
  }
  applied.sort((a, b) => a.policy.localeCompare(b.policy));
  const workload = { source: w.source, namespace: w.namespace, labels: w.labels };
  const base = { mtlsMode: mtls.mode, mtls, workload, port: q.port, protocol, protocolSource, applied };

  // The connection is refused before authorization when the port's mTLS mode does not accept it.
  const isMtls = q.principal !== undefined && mtls.mode !== "DISABLE";
  if (!acceptsConnection(mtls.mode, isMtls)) {
    const reason =
      mtls.mode === "STRICT"
        ? `mTLS required: port ${q.port} is STRICT (${mtls.policy ?? "mesh default"}); plaintext connections are closed`
        : `port ${q.port} is DISABLE: mTLS connections are refused`;
    return {
      ...base,
      decision: "DENY",
      policy: null,
      rule: null,
      reason,
      rbacDetails: null,
      path: null,
      trace: [],
    };
  }
  const http: HttpAttributes | undefined =
    protocol === "http"
      ? {
          method: q.http?.method ?? "GET",
          host: q.http?.host ?? "",
          path: q.http?.path ?? "/",
          headers: q.http?.headers ?? {},
        }
      : undefined;
  const request: AuthzRequest = {
    destination: { namespace: w.namespace, labels: w.labels, port: q.port, protocol },
    source: {
      principal: isMtls ? q.principal : undefined,
      ip: q.sourceIp,
      remoteIp: q.remoteIp ?? q.sourceIp,
    },
    sni: q.sni,
    http,
  };
  const index = compileAuthz(policies, w, authzOptions);
  const d = evaluate(index, request, { explain: true });
  return {
    ...base,
    decision: d.action,
    policy: d.policy ?? null,
    rule: d.rule ?? null,
    reason: d.reason,
    rbacDetails: rbacDeniedDetails(d) ?? null,
    // The proxy matches policies against the normalized path (mesh pathNormalization, BASE by default).
    path: http
      ? {
          raw: http.path,
          normalized: normalizePath(http.path, index.pathNormalization),
          normalization: index.pathNormalization,
        }
      : null,
    trace: d.trace,
  };
}

/** Human-readable report for the terminal. */
export function formatAuthzCheck(r: AuthzCheckResult): string {
  const lines: string[] = [];
  const by = r.policy !== null ? ` by ${r.policy} rule ${r.rule}` : "";
  lines.push(`${r.decision}${by}`);
  lines.push(`  reason: ${r.reason}`);
  if (r.rbacDetails) lines.push(`  access log detail: ${r.rbacDetails}`);
  const labels = Object.entries(r.workload.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  lines.push(`workload: ${r.workload.source} in ${r.workload.namespace} (${labels || "no labels"})`);
  lines.push(`port: ${r.port}/${r.protocol}: ${r.protocolSource}`);
  if (r.path)
    lines.push(
      r.path.raw === r.path.normalized
        ? `path: ${r.path.raw} (${r.path.normalization} normalization leaves it as is)`
        : `path: ${r.path.raw} → ${r.path.normalized} (${r.path.normalization} normalization)`,
    );
  lines.push(`peer authentication: ${r.mtlsMode}: ${r.mtls.reason}`);
  if (r.applied.length === 0) lines.push("policies that apply: none (no ALLOW policy: allowed)");
  else {
    lines.push("policies that apply:");
    for (const a of r.applied)
      lines.push(`  ${a.policy} ${a.action}${a.dryRun ? " (dry-run)" : ""}: ${a.why}`);
  }
  if (r.trace.length > 0) {
    lines.push("trace:");
    const seen = new Set<string>();
    for (const t of r.trace) {
      // Compile notes can be reported again by the rule they concern: show each once.
      const once = `${t.policy}|${t.rule}|${t.result}|${t.detail}`;
      if (seen.has(once)) continue;
      seen.add(once);
      const rule = t.rule !== undefined ? ` rule ${t.rule}` : "";
      const detail = t.detail.startsWith(t.result) ? t.detail : `${t.result}: ${t.detail}`;
      lines.push(`  ${t.policy} ${t.action}${rule}: ${detail}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
