// Outbound rules: exportTo, Sidecar egress scoping and outboundTrafficPolicy, the fixed
// Passthrough/BlackHole clusters, ServiceEntry clusters and listeners, HTTP virtual host domains.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CLIENT, HOST, SERVER, SERVER_SVC, cfg, cluster } from "./rule-fixtures.js";
import { istio, service } from "./test-support.js";

test("exportTo: Services default to *, the annotation narrows them; ServiceEntry ~ hides it", () => {
  const hidden = service(
    "bar",
    "hidden",
    "10.96.2.9",
    [{ name: "http", port: 80 }],
    { app: "server" },
    {
      "networking.istio.io/exportTo": ".",
    },
  );
  const toFoo = istio("ServiceEntry", "bar", "to-foo", {
    hosts: ["a.example.com"],
    ports: [{ number: 80, name: "http", protocol: "HTTP" }],
    resolution: "DNS",
    exportTo: ["foo"],
  });
  const none = istio("ServiceEntry", "bar", "none", {
    hosts: ["b.example.com"],
    ports: [{ number: 80, name: "http", protocol: "HTTP" }],
    resolution: "DNS",
    exportTo: ["~"],
  });
  const names = (who: { namespace: string; podName: string }) =>
    cfg([CLIENT, SERVER, SERVER_SVC, hidden, toFoo, none], who)
      .config.clusters.map((c) => c.name)
      .filter((n) => n.startsWith("outbound|80|"));
  assert.deepEqual(names({ namespace: "foo", podName: "client" }), [
    "outbound|80||a.example.com",
    `outbound|80||${HOST}`,
  ]);
  assert.deepEqual(names({ namespace: "bar", podName: "server" }), [
    "outbound|80||hidden.bar.svc.cluster.local",
    `outbound|80||${HOST}`,
  ]);
});

test("Sidecar egress hosts limit what the proxy knows; its outboundTrafficPolicy overrides the mesh", () => {
  const sc = istio("Sidecar", "foo", "default", {
    egress: [{ hosts: ["./*", "istio-system/*"] }],
    outboundTrafficPolicy: { mode: "REGISTRY_ONLY" },
  });
  const mine = service("foo", "client", "10.96.1.1", [{ name: "http", port: 80 }]);
  const { config } = cfg([CLIENT, SERVER, SERVER_SVC, mine, sc]);
  assert.deepEqual(
    config.clusters.filter((c) => c.name.startsWith("outbound|")).map((c) => c.name),
    ["outbound|80||client.foo.svc.cluster.local"],
  );
  assert.equal(config.outbound.defaultCluster, "BlackHoleCluster");
  assert.equal(config.mesh.outboundTrafficPolicy, "REGISTRY_ONLY");
  const vh = config.outbound.listeners[0]?.virtualHosts.at(-1);
  assert.deepEqual([vh?.name, vh?.routes[0]?.clusters?.[0]?.cluster], ["block_all", "BlackHoleCluster"]);
});

test("PassthroughCluster and BlackHoleCluster always exist; the default follows the traffic policy", () => {
  const allow = cfg([CLIENT]).config;
  assert.equal(allow.outbound.defaultCluster, "PassthroughCluster");
  for (const c of [allow, cfg([CLIENT], undefined, { outboundTrafficPolicy: "REGISTRY_ONLY" }).config]) {
    assert.equal(cluster(c, "PassthroughCluster").type, "ORIGINAL_DST");
    assert.equal(cluster(c, "BlackHoleCluster").type, "BLACKHOLE");
  }
  assert.equal(
    cfg([CLIENT], undefined, { outboundTrafficPolicy: "REGISTRY_ONLY" }).config.outbound.defaultCluster,
    "BlackHoleCluster",
  );
});

test("ServiceEntry: DNS → STRICT_DNS, HTTP by host, TLS by SNI; NONE → ORIGINAL_DST", () => {
  const dns = istio("ServiceEntry", "foo", "example", {
    hosts: ["example.com"],
    ports: [
      { number: 80, name: "http", protocol: "HTTP" },
      { number: 443, name: "tls", protocol: "TLS" },
    ],
    resolution: "DNS",
    location: "MESH_EXTERNAL",
  });
  const none = istio("ServiceEntry", "foo", "any", {
    hosts: ["*.wild.example"],
    ports: [{ number: 9999, name: "tcp", protocol: "TCP" }],
    resolution: "NONE",
  });
  const { config } = cfg([CLIENT, dns, none]);
  const c = cluster(config, "outbound|80||example.com");
  assert.deepEqual(
    [c.type, c.endpoints.map((e) => `${e.address}:${e.port}`), c.tls],
    ["STRICT_DNS", ["example.com:80"], undefined],
  );
  assert.equal(cluster(config, "outbound|9999||*.wild.example").type, "ORIGINAL_DST");
  const byName = new Map(config.outbound.listeners.map((l) => [l.name, l]));
  assert.deepEqual(byName.get("0.0.0.0_80")?.virtualHosts[0]?.domains, ["example.com", "example.com:80"]);
  assert.deepEqual(byName.get("0.0.0.0_443")?.sniRoutes, [
    {
      sniHosts: ["example.com"],
      destinationSubnets: [],
      clusters: [{ cluster: "outbound|443||example.com", weight: 1 }],
    },
  ]);
  assert.equal(byName.get("0.0.0.0_9999")?.cluster, "outbound|9999||*.wild.example");
});

test("HTTP virtual hosts: the short name only for same-namespace clients", () => {
  const domains = (who: { namespace: string; podName: string }) =>
    cfg([CLIENT, SERVER, SERVER_SVC], who).config.outbound.listeners.find((l) => l.name === "0.0.0.0_80")
      ?.virtualHosts[0]?.domains;
  assert.ok(!domains({ namespace: "foo", podName: "client" })?.includes("server"));
  assert.ok(domains({ namespace: "bar", podName: "server" })?.includes("server:80"));
  assert.ok(domains({ namespace: "foo", podName: "client" })?.includes("10.96.2.1:80"));
});
