// The ProxyConfig's `mesh` section from the snapshot's mesh config: identity, outbound policy, and only
// the settings that differ from the defaults (path normalization, access log), so a proxy of a mesh with
// default settings receives exactly what it did before those settings existed.
import type { ProxyConfig } from "../proxy/proxy-config.js";
import type { MeshConfig } from "./snapshot-types.js";

export function proxyMesh(
  mesh: MeshConfig,
  outboundTrafficPolicy: MeshConfig["outboundTrafficPolicy"] = mesh.outboundTrafficPolicy,
): ProxyConfig["mesh"] {
  const out: ProxyConfig["mesh"] = {
    rootNamespace: mesh.rootNamespace,
    trustDomain: mesh.trustDomain,
    outboundTrafficPolicy,
  };
  // Istio's default normalization is BASE; absent means BASE to the proxy.
  if (mesh.pathNormalization && mesh.pathNormalization !== "BASE")
    out.pathNormalization = mesh.pathNormalization;
  const file = mesh.accessLogFile ?? "/dev/stdout";
  const encoding = mesh.accessLogEncoding ?? "TEXT";
  const format = mesh.accessLogFormat ?? "";
  if (file !== "/dev/stdout" || encoding !== "TEXT" || format !== "")
    out.accessLog = { file, encoding, ...(format ? { format } : {}) };
  return out;
}
