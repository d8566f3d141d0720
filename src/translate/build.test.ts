// build() as a whole: inbound chains and policies, determinism and versions, failing closed, node ids,
// and affectedProxies. Every config built here also passes parseProxyConfig (see rule-fixtures.ts).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { AnyResource } from "../api/meta.js";
import { buildSnapshot } from "../controlplane/snapshot.js";
import { parseProxyConfig } from "../proxy/proxy-config.js";
import { affectedProxies, sidecarProxies } from "./affected.js";
import { build } from "./build.js";
import { CLIENT, HOST, SERVER, SERVER_SVC, cfg } from "./rule-fixtures.js";
import { istio, pod, service } from "./test-support.js";

test("inbound: a chain per declared target port, per-port mTLS, and the passthrough chain with undeclared port overrides", () => {
  const pa = istio("PeerAuthentication", "bar", "server", {
    selector: { matchLabels: { app: "server" } },
    mtls: { mode: "STRICT" },
    portLevelMtls: { "9000": { mode: "PERMISSIVE" }, "9002": { mode: "DISABLE" } },
  });
  const grpc = service(
    "bar",
    "grpc",
    "10.96.2.3",
    [
      { name: "grpc-api", port: 7070 },
      { name: "dns", port: 53, protocol: "UDP" },
    ],
    { app: "server" },
  );
  const { config } = cfg([SERVER, SERVER_SVC, grpc, pa], { namespace: "bar", podName: "server" });
  assert.deepEqual(
    config.inbound.chains.map((c) => [c.name, c.port, c.protocol, c.mtls.mode, c.mtls.policy, c.portMtls]),
    [
      ["inbound|7070||", 7070, "http2", "STRICT", "bar/server", undefined],
      ["inbound|8080||", 8080, "http", "STRICT", "bar/server", undefined],
      ["inbound|9000||", 9000, "tcp", "PERMISSIVE", "bar/server", undefined],
      [
        "InboundPassthroughCluster",
        null,
        "tcp",
        "STRICT",
        "bar/server",
        [{ port: 9002, mode: "DISABLE", policy: "bar/server" }],
      ],
    ],
  );
  assert.ok(config.inbound.chains.every((c) => c.upstreamAddress === "10.244.2.1"));
});

test("inbound: named targetPort resolves against the pod's container ports; applicable policies only, sorted", () => {
  const p = pod({
    ns: "bar",
    name: "named",
    ip: "10.244.2.5",
    labels: { app: "named" },
    ports: [{ name: "web", containerPort: 8181 }],
  });
  const svc = service("bar", "named", "10.96.2.5", [{ name: "http", port: 80, targetPort: "web" }]);
  const policies = [
    istio("AuthorizationPolicy", "bar", "z-all", {}),
    istio("AuthorizationPolicy", "istio-system", "mesh", {
      action: "DENY",
      rules: [{ to: [{ operation: { ports: ["1"] } }] }],
    }),
    istio("AuthorizationPolicy", "bar", "other-app", { selector: { matchLabels: { app: "other" } } }),
    istio("AuthorizationPolicy", "foo", "foo-all", {}),
  ];
  const { config } = cfg([p, svc, ...policies], { namespace: "bar", podName: "named" });
  assert.deepEqual(
    config.inbound.chains.map((c) => c.port),
    [8181, null],
  );
  assert.deepEqual(
    config.inbound.authz.tcp.policies.map((a) => a.id),
    ["bar/z-all", "istio-system/mesh"],
  );
});

test("determinism: the same resources in another order give identical JSON and version", () => {
  const all = [
    CLIENT,
    SERVER,
    SERVER_SVC,
    pod({ ns: "bar", name: "server-2", ip: "10.244.2.7", labels: { app: "server" }, sa: "server" }),
    istio("AuthorizationPolicy", "bar", "a", {}),
    istio("AuthorizationPolicy", "istio-system", "b", {}),
    istio("PeerAuthentication", "bar", "default", { mtls: { mode: "STRICT" } }),
    istio("DestinationRule", "bar", "dr", {
      host: HOST,
      subsets: [{ name: "v1", labels: { app: "server" } }],
    }),
  ];
  for (const who of [
    { namespace: "foo", podName: "client" },
    { namespace: "bar", podName: "server" },
  ]) {
    const a = cfg(all, who).config;
    const b = cfg([...all].reverse(), who).config;
    assert.equal(JSON.stringify(a), JSON.stringify(b));
    assert.equal(a.version, b.version);
  }
});

test("the version changes with the content and only then", () => {
  const base = [CLIENT, SERVER, SERVER_SVC];
  const v = (rs: AnyResource[]) => cfg(rs).config.version;
  assert.equal(v(base), v(base));
  assert.notEqual(
    v(base),
    v([...base, istio("PeerAuthentication", "bar", "default", { mtls: { mode: "DISABLE" } })]),
  );
});

test("fails closed: an unknown pod or a malformed node id gets no inbound chains and a diagnostic", () => {
  for (const who of ["sidecar~10.0.0.1~ghost.foo~foo.svc.cluster.local", "garbage"]) {
    const r = build(buildSnapshot([CLIENT]), who);
    assert.deepEqual(r.config.inbound.chains, []);
    assert.equal(r.config.outbound.defaultCluster, "BlackHoleCluster");
    assert.equal(r.diagnostics.length, 1);
    assert.match(r.diagnostics[0]!, /failed closed/);
    assert.ok(parseProxyConfig(JSON.parse(JSON.stringify(r.config))).ok);
  }
});

test("fails closed when the snapshot itself is broken (build never throws)", () => {
  const snap = buildSnapshot([CLIENT]);
  const broken = { ...snap, services: null as never };
  const r = build(broken, "sidecar~10.244.1.1~client.foo~foo.svc.cluster.local");
  assert.deepEqual(r.config.inbound.chains, []);
  assert.match(r.diagnostics[0] ?? "", /failed closed/);
});

test("node id: built from the pod; a sidecar's node id resolves back to it", () => {
  const snap = buildSnapshot([CLIENT]);
  const [id] = sidecarProxies(snap);
  assert.equal(id, "sidecar~10.244.1.1~client.foo~foo.svc.cluster.local");
  const { config, diagnostics } = build(snap, id!);
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(
    [config.node.id, config.node.podName, config.node.namespace, config.node.serviceAccount, config.node.ip],
    [id, "client", "foo", "client", "10.244.1.1"],
  );
});

test("affectedProxies: only proxies whose config changed", () => {
  const other = pod({ ns: "baz", name: "lonely", ip: "10.244.3.1", labels: { app: "lonely" } });
  const before = buildSnapshot([CLIENT, SERVER, SERVER_SVC, other]);
  const proxies = sidecarProxies(before);
  assert.deepEqual(affectedProxies(before, before, proxies), []);
  // A policy in bar changes only bar's workload.
  const withPolicy = buildSnapshot([
    CLIENT,
    SERVER,
    SERVER_SVC,
    other,
    istio("AuthorizationPolicy", "bar", "p", {}),
  ]);
  assert.deepEqual(
    affectedProxies(before, withPolicy, proxies).map((a) => a.proxy),
    ["sidecar~10.244.2.1~server.bar~bar.svc.cluster.local"],
  );
  // DISABLE on the server changes the server and every client that sees it (auto mTLS), here all three.
  const disabled = buildSnapshot([
    CLIENT,
    SERVER,
    SERVER_SVC,
    other,
    istio("PeerAuthentication", "bar", "d", { mtls: { mode: "DISABLE" } }),
  ]);
  assert.equal(affectedProxies(before, disabled, proxies).length, 3);
  assert.equal(affectedProxies(undefined, before, proxies).length, 3);
});
