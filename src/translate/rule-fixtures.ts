// Shared fixtures for the translation rule tests: a client in foo, a server in bar with HTTP and TCP
// ports, and helpers that build a config and check it with parseProxyConfig (throws when it fails).
import type { AnyResource } from "../api/meta.js";
import { buildSnapshot } from "../controlplane/snapshot.js";
import type { ProxyCluster, ProxyConfig } from "../proxy/proxy-config.js";
import { parseProxyConfig } from "../proxy/proxy-config.js";
import { build } from "./build.js";
import type { BuildResult } from "./build.js";
import type { MeshConfig } from "./snapshot-types.js";
import { pod, service } from "./test-support.js";

export const CLIENT = pod({
  ns: "foo",
  name: "client",
  ip: "10.244.1.1",
  labels: { app: "client" },
  sa: "client",
});
export const SERVER = pod({
  ns: "bar",
  name: "server",
  ip: "10.244.2.1",
  labels: { app: "server" },
  sa: "server",
});
export const SERVER_SVC = service("bar", "server", "10.96.2.1", [
  { name: "http", port: 80, targetPort: 8080 },
  { name: "tcp", port: 9000 },
]);
export const HOST = "server.bar.svc.cluster.local";

/** Builds the config of `who` (foo/client by default) and checks it passes parseProxyConfig. */
export function cfg(
  resources: AnyResource[],
  who = { namespace: "foo", podName: "client" },
  mesh?: Partial<MeshConfig>,
): BuildResult {
  const r = build(buildSnapshot(resources, mesh), who);
  const parsed = parseProxyConfig(JSON.parse(JSON.stringify(r.config)));
  if (!parsed.ok) throw new Error(`invalid config:\n${parsed.errors.join("\n")}`);
  return r;
}

export function cluster(c: ProxyConfig, name: string): ProxyCluster {
  const found = c.clusters.find((x) => x.name === name);
  if (!found) throw new Error(`no cluster ${name} in ${c.clusters.map((x) => x.name).join(", ")}`);
  return found;
}

export const tlsModes = (c: ProxyCluster) => c.endpoints.map((e) => e.tls?.mode ?? "plaintext");
