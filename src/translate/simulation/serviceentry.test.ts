// ServiceEntry routing: address ranges picked by the most precise prefix, addresses shared by two entries,
// entries for one host on different ports, resolution and location, REGISTRY_ONLY: restated from Istio's
// TestServiceEntry / TestServiceEntryDuplicatedHostname (serviceentry_simulation_test.go) plus Shoal's own.
import assert from "node:assert/strict";
import { test } from "node:test";
import { podYaml, simulation } from "../../testing/simulation.js";

const CLIENT = podYaml({ ns: "default", name: "client", ip: "10.244.0.10", labels: { app: "foo" } });

function twoEntries(a: string, b: string): string {
  return [1, 2]
    .map(
      (i) => `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: se${i}, namespace: default}
spec:
  hosts: [blah${i}.somedomain]
  addresses: ["${i === 1 ? a : b}"]
  ports: [{number: 9999, name: port-9999, protocol: TCP}]`,
    )
    .join("\n---\n");
}

test("TestServiceEntry/identical CIDR (ignoring insignificant bits): the first entry keeps the range", () => {
  const sim = simulation(
    [
      CLIENT,
      twoEntries("1234:1f1:123:123:f816:3eff:feb8:2287/32", "1234:1f1:123:123:f816:3eff:febf:57ce/32"),
    ].join("\n---\n"),
  );
  const r = sim.connect("default/client", { address: "1234:1f1:1:1:1:1:1:1", port: 9999 });
  assert.deepEqual([r.listener, r.cluster], ["0.0.0.0_9999", "outbound|9999||blah1.somedomain"]);
});

test("TestServiceEntry/overlapping CIDR: the more precise range wins, the wider one takes the rest", () => {
  const sim = simulation(
    [
      CLIENT,
      twoEntries("1234:1f1:123:123:f816:3eff:feb8:2287/16", "1234:1f1:123:123:f816:3eff:febf:57ce/32"),
    ].join("\n---\n"),
  );
  const precise = sim.connect("default/client", {
    address: "1234:1f1:123:123:f816:3eff:febf:57ce",
    port: 9999,
  });
  assert.deepEqual([precise.listener, precise.cluster], ["0.0.0.0_9999", "outbound|9999||blah2.somedomain"]);
  const wide = sim.connect("default/client", { address: "1234::1", port: 9999 });
  assert.deepEqual([wide.listener, wide.cluster], ["0.0.0.0_9999", "outbound|9999||blah1.somedomain"]);
  // Outside both ranges: the listener has no route, the mesh default (ALLOW_ANY) passes it through.
  const none = sim.connect("default/client", { address: "4321::1", port: 9999 });
  assert.equal(none.cluster, "PassthroughCluster");
});

test("TestServiceEntry/partial overlap of IP: a shared address stays with the first entry", () => {
  const yaml = `${CLIENT}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: se1, namespace: default}
spec:
  hosts: [blah1.somedomain]
  addresses: [1.1.1.1]
  ports: [{number: 9999, name: port-9999, protocol: TCP}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: se2, namespace: default}
spec:
  hosts: [blah2.somedomain]
  addresses: [2.2.2.2, 1.1.1.1]
  ports: [{number: 9999, name: port-9999, protocol: TCP}]
`;
  const sim = simulation(yaml);
  const unique = sim.connect("default/client", { address: "2.2.2.2", port: 9999 });
  assert.deepEqual([unique.listener, unique.cluster], ["2.2.2.2_9999", "outbound|9999||blah2.somedomain"]);
  const shared = sim.connect("default/client", { address: "1.1.1.1", port: 9999 });
  assert.deepEqual([shared.listener, shared.cluster], ["1.1.1.1_9999", "outbound|9999||blah1.somedomain"]);
});

const DUPLICATED = `${CLIENT}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: istio-http, namespace: default}
spec:
  hosts: [istio.io]
  location: MESH_EXTERNAL
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: istio-https, namespace: default}
spec:
  hosts: [istio.io]
  location: MESH_EXTERNAL
  ports: [{number: 443, name: https, protocol: HTTPS}]
  resolution: DNS
`;

test("TestServiceEntryDuplicatedHostname/HTTP call: two entries for one host keep both ports", () => {
  const sim = simulation(DUPLICATED);
  const r = sim.request("default/client", { authority: "istio.io", port: 80 });
  assert.deepEqual([r.listener, r.cluster], ["0.0.0.0_80", "outbound|80||istio.io"]);
  assert.deepEqual(r.destinations[0]?.endpoints, ["istio.io:80"]);
  assert.deepEqual(sim.config("default/client").diagnostics, []);
});

test("TestServiceEntryDuplicatedHostname/HTTPS call: routed by SNI (no auto-allocated address)", () => {
  const sim = simulation(DUPLICATED);
  const r = sim.connect("default/client", { address: "203.0.113.7", port: 443, sni: "istio.io" });
  assert.deepEqual([r.listener, r.protocol, r.cluster], ["0.0.0.0_443", "tls", "outbound|443||istio.io"]);
});

test("ServiceEntry resolution: STATIC lists its endpoints, DNS resolves the host, NONE keeps the original destination", () => {
  const yaml = `${CLIENT}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: static, namespace: default}
spec:
  hosts: [static.example.com]
  ports: [{number: 8080, name: http, protocol: HTTP, targetPort: 9090}]
  resolution: STATIC
  endpoints: [{address: 203.0.113.1}, {address: 203.0.113.2, weight: 3}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: dns, namespace: default}
spec:
  hosts: [dns.example.com]
  ports: [{number: 8080, name: http, protocol: HTTP}]
  resolution: DNS_ROUND_ROBIN
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: none, namespace: default}
spec:
  hosts: [none.example.com]
  addresses: [198.51.100.9]
  ports: [{number: 5432, name: tcp, protocol: TCP}]
  resolution: NONE
`;
  const sim = simulation(yaml);
  const s = sim.request("default/client", { authority: "static.example.com:8080", port: 8080 });
  assert.deepEqual(s.destinations[0]?.endpoints, ["203.0.113.1:9090", "203.0.113.2:9090"]);
  assert.equal(s.destinations[0]?.type, "EDS");
  const d = sim.request("default/client", { authority: "dns.example.com", port: 8080 });
  assert.deepEqual(
    [d.destinations[0]?.type, d.destinations[0]?.endpoints],
    ["STRICT_DNS", ["dns.example.com:8080"]],
  );
  const n = sim.connect("default/client", { address: "198.51.100.9", port: 5432 });
  assert.equal(n.cluster, "outbound|5432||none.example.com");
  assert.equal(n.destinations[0]?.type, "ORIGINAL_DST");
});

test("ServiceEntry workloadSelector: the selected pods are the endpoints; MESH_INTERNAL gets auto mTLS", () => {
  const yaml = `${CLIENT}
---
${podYaml({ ns: "default", name: "vm-1", ip: "10.244.0.20", labels: { app: "vm" } })}
---
${podYaml({ ns: "default", name: "other", ip: "10.244.0.21", labels: { app: "other" } })}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: vm, namespace: default}
spec:
  hosts: [vm.internal]
  location: MESH_INTERNAL
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  workloadSelector: {labels: {app: vm}}
`;
  const sim = simulation(yaml);
  const r = sim.request("default/client", { authority: "vm.internal", port: 80 });
  assert.deepEqual(r.destinations[0]?.endpoints, ["10.244.0.20:80"]);
  const c = r.config.clusters.find((x) => x.name === "outbound|80||vm.internal");
  assert.equal(c?.endpoints[0]?.tls?.mode, "ISTIO_MUTUAL");
});

test("REGISTRY_ONLY: registered external hosts pass, unknown hosts and addresses go to BlackHoleCluster", () => {
  const yaml = `${CLIENT}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: httpbin, namespace: default}
spec:
  hosts: [httpbin.org]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: default}
spec:
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
`;
  const sim = simulation(yaml);
  assert.equal(
    sim.request("default/client", { authority: "httpbin.org", port: 80 }).cluster,
    "outbound|80||httpbin.org",
  );
  assert.equal(
    sim.request("default/client", { authority: "example.com", port: 80 }).cluster,
    "BlackHoleCluster",
  );
  assert.equal(
    sim.connect("default/client", { address: "203.0.113.5", port: 22 }).cluster,
    "BlackHoleCluster",
  );
});

test("ServiceEntry exportTo: hidden from other namespaces, so their proxies do not route to it", () => {
  const yaml = `${CLIENT}
---
${podYaml({ ns: "other", name: "client", ip: "10.244.0.30" })}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: private, namespace: default}
spec:
  hosts: [private.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
  exportTo: ["."]
`;
  const sim = simulation(yaml);
  assert.equal(
    sim.request("default/client", { authority: "private.example.com", port: 80 }).cluster,
    "outbound|80||private.example.com",
  );
  assert.equal(
    sim.request("other/client", { authority: "private.example.com", port: 80 }).listener,
    undefined,
  );
});
