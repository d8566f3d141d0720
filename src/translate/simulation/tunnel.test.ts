// Tunneled endpoints (Istio's HBONE on 15008): a client reaches an endpoint through the tunnel only when
// the pod has a sidecar, carries `networking.istio.io/tunnel: http`, gets ISTIO_MUTUAL (auto mTLS or a
// DestinationRule) and the port is opaque TCP; everything else keeps one connection per connection.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseProxyConfig } from "../../proxy/proxy-config.js";
import { podYaml, simulation } from "../../testing/simulation.js";

const TUNNEL = { "networking.istio.io/tunnel": "http" };

const BASE = `apiVersion: v1
kind: Service
metadata: {name: db, namespace: data}
spec:
  clusterIP: 10.96.3.1
  selector: {app: db}
  ports:
  - {port: 5432, name: tcp-pg}
  - {port: 80, name: http-admin, targetPort: 8080}
  - {port: 6379, name: cache, targetPort: 6379}
---
${podYaml({ ns: "data", name: "db-tunnel", ip: "10.244.3.1", labels: { app: "db", ...TUNNEL } })}
---
${podYaml({ ns: "data", name: "db-plain", ip: "10.244.3.2", labels: { app: "db" } })}
---
${podYaml({ ns: "data", name: "db-bare", ip: "10.244.3.3", labels: { app: "db", ...TUNNEL }, sidecar: false })}
---
${podYaml({ ns: "data", name: "db-off", ip: "10.244.3.4", labels: { app: "db", "networking.istio.io/tunnel": "false" } })}
---
${podYaml({ ns: "app", name: "client", ip: "10.244.4.1", labels: { app: "client" } })}`;

const DB = "db.data.svc.cluster.local";
const sim = (...docs: string[]) => simulation([BASE, ...docs].join("\n---\n"));

/** Endpoint address → its tunnel port (or "none") in one of the client's clusters. */
function tunnels(s: ReturnType<typeof sim>, cluster: string): Record<string, number | "none"> {
  const c = s.config("app/client").config.clusters.find((x) => x.name === cluster);
  assert.ok(c, `${cluster} exists`);
  return Object.fromEntries(c.endpoints.map((e) => [e.address, e.tunnel?.port ?? "none"]));
}

test("auto mTLS to a labelled sidecar pod on a TCP port: reached through the tunnel on 15008", () => {
  const s = sim();
  assert.deepEqual(tunnels(s, `outbound|5432||${DB}`), {
    "10.244.3.1": 15008,
    // Istio's default: no label, no HBONE.
    "10.244.3.2": "none",
    // No sidecar: plaintext, nothing to tunnel to.
    "10.244.3.3": "none",
    // Only the value `http` turns it on.
    "10.244.3.4": "none",
  });
  // A port whose name says no protocol is opaque TCP too.
  assert.equal(tunnels(s, `outbound|6379||${DB}`)["10.244.3.1"], 15008);
  const tunneled = s
    .config("app/client")
    .config.clusters.find((c) => c.name === `outbound|5432||${DB}`)!
    .endpoints.find((e) => e.address === "10.244.3.1")!;
  assert.equal(tunneled.tls?.mode, "ISTIO_MUTUAL", "the tunnel goes with the endpoint's mesh mTLS");
  assert.equal(tunneled.port, 5432, "the endpoint keeps its own port (the CONNECT authority)");
  const parsed = parseProxyConfig(JSON.parse(JSON.stringify(s.config("app/client").config)));
  assert.ok(parsed.ok, "the config with tunnels passes the contract's schema");
});

test("an HTTP port is never tunneled (its requests already share pooled connections)", () => {
  assert.deepEqual(Object.values(tunnels(sim(), `outbound|80||${DB}`)), ["none", "none", "none", "none"]);
});

test("a DestinationRule with ISTIO_MUTUAL tunnels; DISABLE and SIMPLE do not", () => {
  const dr = (mode: string) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: db, namespace: data}
spec:
  host: db
  trafficPolicy: {tls: {mode: ${mode}}}`;
  assert.equal(tunnels(sim(dr("ISTIO_MUTUAL")), `outbound|5432||${DB}`)["10.244.3.1"], 15008);
  // With ISTIO_MUTUAL set by rule, even the pod without a sidecar gets mTLS, but it has no tunnel port.
  assert.equal(tunnels(sim(dr("ISTIO_MUTUAL")), `outbound|5432||${DB}`)["10.244.3.3"], "none");
  assert.equal(tunnels(sim(dr("DISABLE")), `outbound|5432||${DB}`)["10.244.3.1"], "none");
  assert.equal(tunnels(sim(dr("SIMPLE")), `outbound|5432||${DB}`)["10.244.3.1"], "none");
});

test("a subset cluster tunnels its labelled members like the service's cluster", () => {
  const s = sim(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: db, namespace: data}
spec:
  host: db
  subsets:
  - {name: tunneled, labels: {networking.istio.io/tunnel: http}}`);
  assert.deepEqual(tunnels(s, `outbound|5432|tunneled|${DB}`), { "10.244.3.1": 15008, "10.244.3.3": "none" });
});

test("PeerAuthentication DISABLE on the server's port: no auto mTLS, so no tunnel", () => {
  const s = sim(`apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: db, namespace: data}
spec:
  selector: {matchLabels: {app: db}}
  mtls: {mode: PERMISSIVE}
  portLevelMtls: {"5432": {mode: DISABLE}}`);
  assert.equal(tunnels(s, `outbound|5432||${DB}`)["10.244.3.1"], "none");
  assert.equal(tunnels(s, `outbound|6379||${DB}`)["10.244.3.1"], 15008, "other ports are unaffected");
});

test("a target port another Service declares as HTTP is served as HTTP by the pod: not tunneled", () => {
  const s = sim(`apiVersion: v1
kind: Service
metadata: {name: db-web, namespace: data}
spec:
  clusterIP: 10.96.3.2
  selector: {app: db}
  ports: [{port: 8000, name: http-web, targetPort: 6379}]`);
  assert.equal(tunnels(s, `outbound|6379||${DB}`)["10.244.3.1"], "none");
  assert.equal(tunnels(s, `outbound|5432||${DB}`)["10.244.3.1"], 15008);
});

test("without the label the endpoints carry no tunnel field at all", () => {
  const others = sim()
    .config("app/client")
    .config.clusters.flatMap((c) => c.endpoints.filter((e) => e.address !== "10.244.3.1"));
  assert.ok(others.length > 0);
  assert.deepEqual(
    others.filter((e) => "tunnel" in e),
    [],
  );
});
