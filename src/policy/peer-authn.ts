// The mTLS mode a workload's inbound port accepts, resolved from PeerAuthentication policies the way
// Istio composes them: mesh → namespace → workload → port, narrowest set mode wins.
import type { MtlsModeSetting, PeerAuthentication } from "../api/istio/peer-authentication.js";
import type { PolicyOptions, Workload } from "./workload.js";
import { isEmptySelector, policyId, rootNamespaceOf, selectorMatches } from "./workload.js";
import { olderFirst } from "../api/meta.js";

export type MtlsMode = "STRICT" | "PERMISSIVE" | "DISABLE";
export type PeerAuthnLevel = "workload" | "namespace" | "mesh" | "default";

export interface PeerAuthnResult {
  mode: MtlsMode;
  /** The policy whose mode decided (`ns/name`); undefined when nothing set a mode. */
  policy: string | undefined;
  level: PeerAuthnLevel;
  /** True when the workload policy's portLevelMtls entry for this port decided. */
  portLevel: boolean;
  /** The policy chosen at each level (whether or not its mode was UNSET). */
  selected: { mesh?: string; namespace?: string; workload?: string };
  reason: string;
}

function oldest(ps: PeerAuthentication[]): PeerAuthentication | undefined {
  return ps.length === 0 ? undefined : [...ps].sort(olderFirst)[0];
}

function setMode(m: MtlsModeSetting | undefined): MtlsMode | undefined {
  return m === undefined || m === "UNSET" ? undefined : m;
}

/** Effective mode for `workload` on target `port` (omit the port for the workload-wide mode). */
export function effectivePeerAuthn(
  policies: readonly PeerAuthentication[],
  workload: Workload,
  port?: number,
  options?: PolicyOptions,
): PeerAuthnResult {
  const root = rootNamespaceOf(options);
  const mesh: PeerAuthentication[] = [];
  const namespace: PeerAuthentication[] = [];
  const wl: PeerAuthentication[] = [];
  for (const p of policies) {
    const ns = p.metadata.namespace ?? "default";
    const noSelector = isEmptySelector(p.spec.selector);
    // Mesh-wide = root namespace, no selector. A selector in the root namespace is ignored (Istio
    // skips it even for workloads in the root namespace).
    if (ns === root) {
      if (noSelector) mesh.push(p);
      continue;
    }
    if (ns !== workload.namespace) continue;
    // Namespace-wide = no selector; workload = selector whose labels the workload has.
    if (noSelector) namespace.push(p);
    else if (selectorMatches(p.spec.selector?.matchLabels, workload.labels)) wl.push(p);
  }
  const chosen = { mesh: oldest(mesh), namespace: oldest(namespace), workload: oldest(wl) };
  const selected: PeerAuthnResult["selected"] = {};
  for (const level of ["mesh", "namespace", "workload"] as const) {
    const p = chosen[level];
    if (p) selected[level] = policyId(p.metadata);
  }
  // No policy → PERMISSIVE. UNSET inherits from the level above; the narrowest set mode wins.
  let result: PeerAuthnResult = {
    mode: "PERMISSIVE",
    policy: undefined,
    level: "default",
    portLevel: false,
    selected,
    reason: "no PeerAuthentication sets a mode: PERMISSIVE",
  };
  for (const level of ["mesh", "namespace", "workload"] as const) {
    const p = chosen[level];
    const mode = setMode(p?.spec.mtls?.mode);
    if (p && mode) {
      const id = policyId(p.metadata);
      result = {
        mode,
        policy: id,
        level,
        portLevel: false,
        selected,
        reason: `${level} policy ${id}: ${mode}`,
      };
    }
  }
  // portLevelMtls (workload policies only, keyed by target port) overrides; UNSET inherits.
  const w = chosen.workload;
  if (w && port !== undefined) {
    const mode = setMode(w.spec.portLevelMtls?.[String(port)]?.mode);
    if (mode) {
      const id = policyId(w.metadata);
      result = {
        mode,
        policy: id,
        level: "workload",
        portLevel: true,
        selected,
        reason: `workload policy ${id} portLevelMtls[${port}]: ${mode}`,
      };
    }
  }
  return result;
}

/** Server side: STRICT rejects plaintext; PERMISSIVE accepts plaintext and mTLS; DISABLE plaintext only. */
export function acceptsConnection(mode: MtlsMode, mtls: boolean): boolean {
  if (mode === "STRICT") return mtls;
  if (mode === "DISABLE") return !mtls;
  return true;
}
