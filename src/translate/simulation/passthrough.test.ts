// Traffic to an address no listener claims, under each outbound traffic policy: restated from the
// "with VIP" part of Istio's TestPassthroughTraffic (sidecar_simulation_test.go). HTTP calls on HTTP ports
// land on the catch-all virtual host (`allow_any` / `block_all`); everything else takes the default cluster.
import assert from "node:assert/strict";
import { test } from "node:test";
import { podYaml, simulation } from "../../testing/simulation.js";

const SE = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: se, namespace: default}
spec:
  hosts: [istio.io]
  addresses: [1.2.3.4]
  location: MESH_EXTERNAL
  resolution: DNS
  ports:
  - {name: http, number: 80, protocol: HTTP}
  - {name: auto, number: 81}
  - {name: tcp, number: 82, protocol: TCP}
  - {name: tls, number: 83, protocol: TLS}
  - {name: https, number: 84, protocol: HTTPS}
  - {name: grpc, number: 85, protocol: GRPC}
  - {name: h2, number: 86, protocol: HTTP2}`;

const HTTP_PORTS = new Set([80, 85, 86]);

for (const mode of ["REGISTRY_ONLY", "ALLOW_ANY"] as const) {
  const expected = mode === "REGISTRY_ONLY" ? "BlackHoleCluster" : "PassthroughCluster";
  const yaml = `${podYaml({ ns: "default", name: "client", ip: "10.244.0.10" })}
---
${SE}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: default}
spec:
  outboundTrafficPolicy: {mode: ${mode}}`;
  for (let port = 80; port < 87; port++) {
    test(`TestPassthroughTraffic/${mode}/with VIP/port ${port}: HTTP and TCP calls to another address`, () => {
      const sim = simulation(yaml);
      const http = sim.request("default/client", { authority: "foo", port, address: "9.9.9.9" });
      assert.equal(http.cluster, expected);
      if (HTTP_PORTS.has(port)) {
        assert.equal(http.listener, `0.0.0.0_${port}`);
        assert.equal(http.virtualHost, mode === "REGISTRY_ONLY" ? "block_all" : "allow_any");
      } else assert.equal(http.listener, undefined, "the entry's own listener is bound to its address");
      const tcp = sim.connect("default/client", { address: "9.9.9.9", port });
      assert.equal(tcp.cluster, expected);
      // The entry's own address still reaches it.
      const own = HTTP_PORTS.has(port)
        ? sim.request("default/client", { authority: "istio.io", port }).cluster
        : sim.connect("default/client", { address: "1.2.3.4", port, sni: "istio.io" }).cluster;
      assert.equal(own, `outbound|${port}||istio.io`);
    });
  }
}
