// Client-side TLS rules: auto mTLS (sidecar or not, DISABLE endpoints, MESH_EXTERNAL), DestinationRule
// tls precedence (subset > port-level > top-level) and lookup order (client, service, root namespace).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { AnyResource } from "../api/meta.js";
import { CLIENT, HOST, SERVER, SERVER_SVC, cfg, cluster, tlsModes } from "./rule-fixtures.js";
import { istio, pod } from "./test-support.js";

test("auto mTLS: mTLS with the endpoint's SPIFFE id to sidecars, plaintext to pods without one", () => {
  const legacy = pod({
    ns: "bar",
    name: "legacy",
    ip: "10.244.2.2",
    labels: { app: "server" },
    sidecar: false,
  });
  const { config } = cfg([CLIENT, SERVER, legacy, SERVER_SVC]);
  const c = cluster(config, `outbound|80||${HOST}`);
  assert.deepEqual(
    c.endpoints.map((e) => [e.address, e.port, e.tls]),
    [
      [
        "10.244.2.1",
        8080,
        { mode: "ISTIO_MUTUAL", subjectAltNames: ["spiffe://cluster.local/ns/bar/sa/server"] },
      ],
      ["10.244.2.2", 8080, undefined],
    ],
  );
});

test("auto mTLS: plaintext to an endpoint whose effective mode for that port is DISABLE", () => {
  const pa = istio("PeerAuthentication", "bar", "server", {
    selector: { matchLabels: { app: "server" } },
    mtls: { mode: "STRICT" },
    portLevelMtls: { "9000": { mode: "DISABLE" } },
  });
  const { config } = cfg([CLIENT, SERVER, SERVER_SVC, pa]);
  assert.deepEqual(tlsModes(cluster(config, `outbound|80||${HOST}`)), ["ISTIO_MUTUAL"]);
  assert.deepEqual(tlsModes(cluster(config, `outbound|9000||${HOST}`)), ["plaintext"]);
  const nsDisable = istio("PeerAuthentication", "bar", "default", { mtls: { mode: "DISABLE" } });
  const c2 = cfg([CLIENT, SERVER, SERVER_SVC, nsDisable]).config;
  assert.deepEqual(tlsModes(cluster(c2, `outbound|80||${HOST}`)), ["plaintext"]);
});

test("auto mTLS never applies to MESH_EXTERNAL ServiceEntries (STATIC endpoints are plaintext)", () => {
  const se = istio("ServiceEntry", "foo", "ext", {
    hosts: ["ext.example.com"],
    ports: [{ number: 9100, name: "tcp", protocol: "TCP" }],
    location: "MESH_EXTERNAL",
    resolution: "STATIC",
    endpoints: [{ address: "203.0.113.5" }],
    addresses: ["198.51.100.7"],
  });
  const { config } = cfg([CLIENT, se]);
  const c = cluster(config, "outbound|9100||ext.example.com");
  assert.equal(c.type, "EDS");
  assert.deepEqual(tlsModes(c), ["plaintext"]);
  const l = config.outbound.listeners.find((x) => x.name === "198.51.100.7_9100");
  assert.equal(l?.cluster, "outbound|9100||ext.example.com");
});

test("DestinationRule tls: subset beats port-level beats top-level; DISABLE is plaintext", () => {
  const dr = istio("DestinationRule", "bar", "server", {
    host: "server",
    trafficPolicy: {
      tls: { mode: "DISABLE" },
      portLevelSettings: [{ port: { number: 9000 }, tls: { mode: "ISTIO_MUTUAL" } }],
    },
    subsets: [
      {
        name: "v1",
        labels: { app: "server" },
        trafficPolicy: { tls: { mode: "SIMPLE", sni: "server.example", caCertificates: "/ca.pem" } },
      },
      { name: "v2", labels: { version: "v2" } },
    ],
  });
  const { config } = cfg([CLIENT, SERVER, SERVER_SVC, dr]);
  assert.deepEqual(tlsModes(cluster(config, `outbound|80||${HOST}`)), ["plaintext"]);
  assert.deepEqual(tlsModes(cluster(config, `outbound|9000||${HOST}`)), ["ISTIO_MUTUAL"]);
  assert.deepEqual(cluster(config, `outbound|9000|v1|${HOST}`).endpoints[0]?.tls, {
    mode: "SIMPLE",
    sni: "server.example",
    subjectAltNames: [],
    caCertificatesFile: "/ca.pem",
  });
  // v2 selects no endpoint; it inherits the port-level setting.
  assert.deepEqual(cluster(config, `outbound|80|v2|${HOST}`).endpoints, []);
});

test("DestinationRule lookup: client namespace, then the service's namespace, then the root namespace", () => {
  const rule = (ns: string, mode: string, extra: Record<string, unknown> = {}) =>
    istio("DestinationRule", ns, `dr-${ns}`, { host: HOST, trafficPolicy: { tls: { mode } }, ...extra });
  const modes = (...drs: AnyResource[]) =>
    tlsModes(cluster(cfg([CLIENT, SERVER, SERVER_SVC, ...drs]).config, `outbound|80||${HOST}`));
  assert.deepEqual(
    modes(rule("foo", "DISABLE"), rule("bar", "ISTIO_MUTUAL"), rule("istio-system", "ISTIO_MUTUAL")),
    ["plaintext"],
  );
  assert.deepEqual(modes(rule("bar", "DISABLE"), rule("istio-system", "ISTIO_MUTUAL")), ["plaintext"]);
  assert.deepEqual(modes(rule("istio-system", "DISABLE")), ["plaintext"]);
  // A rule in the service namespace exported only to itself is not seen from foo: the root one applies.
  assert.deepEqual(modes(rule("bar", "ISTIO_MUTUAL", { exportTo: ["."] }), rule("istio-system", "DISABLE")), [
    "plaintext",
  ]);
  // Another namespace's rules never apply.
  assert.deepEqual(modes(rule("other", "DISABLE")), ["ISTIO_MUTUAL"]);
});
