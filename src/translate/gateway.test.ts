import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { build } from "./build.js";
import { pod, resourcesFromYaml, service } from "./test-support.js";
import { buildSnapshot } from "../controlplane/snapshot.js";
import type { AnyResource } from "../api/meta.js";

const CERT_PEM = "-----BEGIN CERTIFICATE-----\nCERT\n-----END CERTIFICATE-----\n";
const KEY_PEM = "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n";
const GW = "router~10.244.0.5~istio-egressgateway-1.istio-egress~istio-egress.svc.cluster.local";

const tutorial = `
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: { name: egress-gateway, namespace: istio-egress }
spec:
  selector: { istio: egressgateway }
  servers:
  - port: { number: 80, name: https, protocol: HTTPS }
    hosts: ['*']
    tls: { mode: ISTIO_MUTUAL }
  - port: { number: 443, name: tls, protocol: TLS }
    hosts: ['*']
    tls: { mode: PASSTHROUGH }
---
apiVersion: networking.istio.io/v1alpha3
kind: DestinationRule
metadata: { name: target-egress-gateway, namespace: istio-egress }
spec:
  host: istio-egressgateway.istio-egress.svc.cluster.local
  subsets:
  - name: target-egress-gateway-mTLS
    trafficPolicy:
      portLevelSettings:
      - port: { number: 80 }
        tls: { mode: ISTIO_MUTUAL }
  - name: target-egress-gateway-TLS-passthrough
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: { name: example-com-ext, namespace: istio-egress }
spec:
  hosts: [example.com]
  ports:
  - { number: 80, name: http, protocol: HTTP }
  - { number: 443, name: tls, protocol: TLS }
  resolution: DNS
  location: MESH_EXTERNAL
  exportTo: ['team-x', 'istio-egress']
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: { name: example-com-originate-tls, namespace: istio-egress }
spec:
  host: example.com
  subsets:
  - name: example-com-originate-TLS
    trafficPolicy:
      portLevelSettings:
      - port: { number: 443 }
        tls: { mode: SIMPLE, sni: example.com }
---
apiVersion: networking.istio.io/v1alpha3
kind: VirtualService
metadata: { name: example-com-through-egress-gateway, namespace: istio-egress }
spec:
  hosts: [example.com]
  gateways: [mesh, istio-egress/egress-gateway]
  http:
  - match: [{ gateways: [mesh], port: 80 }]
    route:
    - destination:
        host: istio-egressgateway.istio-egress.svc.cluster.local
        subset: target-egress-gateway-mTLS
        port: { number: 80 }
  - match: [{ gateways: [istio-egress/egress-gateway], port: 80 }]
    route:
    - destination: { host: example.com, port: { number: 443 }, subset: example-com-originate-TLS }
      weight: 100
  tls:
  - match: [{ gateways: [mesh], port: 443, sniHosts: [example.com] }]
    route:
    - destination:
        host: istio-egressgateway.istio-egress.svc.cluster.local
        subset: target-egress-gateway-TLS-passthrough
        port: { number: 443 }
  - match: [{ gateways: [istio-egress/egress-gateway], port: 443, sniHosts: [example.com] }]
    route:
    - destination: { host: example.com, port: { number: 443 } }
      weight: 100
  exportTo: ['istio-egress', 'team-x']
`;

function mesh(extra = ""): AnyResource[] {
  return [
    pod({
      ns: "istio-egress",
      name: "istio-egressgateway-1",
      ip: "10.244.0.5",
      labels: { app: "istio-egressgateway", istio: "egressgateway" },
      sa: "istio-egressgateway-service-account",
      sidecar: true,
    }),
    service(
      "istio-egress",
      "istio-egressgateway",
      "10.96.0.50",
      [
        { name: "http2", port: 80, targetPort: 8080 },
        { name: "https", port: 443, targetPort: 8443 },
      ],
      { istio: "egressgateway" },
    ),
    pod({ ns: "team-x", name: "test-1", ip: "10.244.0.9", labels: { app: "test" }, sa: "test" }),
    ...resourcesFromYaml(tutorial + extra),
  ];
}

describe("gateway translation (egress tutorial)", () => {
  it("listens on the target ports the gateway Service maps the server ports to", () => {
    const { config, diagnostics } = build(buildSnapshot(mesh()), GW);
    assert.equal(config.node.kind, "gateway");
    assert.equal(config.node.id, GW);
    assert.deepEqual(
      config.gateway?.ports.map((p) => [p.port, p.serverPort, p.listener, p.tls.map((t) => t.mode)]),
      [
        [8080, 80, "0.0.0.0_8080", ["ISTIO_MUTUAL"]],
        [8443, 443, "0.0.0.0_8443", []],
      ],
      diagnostics.join("\n"),
    );
    assert.deepEqual(config.inbound.chains, []);
    assert.equal(config.outbound.defaultCluster, "BlackHoleCluster");
  });

  it("binds only the gateway's routes: port 80 originates TLS to example.com:443 on the subset", () => {
    const { config } = build(buildSnapshot(mesh()), GW);
    const l = config.outbound.listeners.find((x) => x.name === "0.0.0.0_8080")!;
    assert.equal(l.protocol, "http");
    assert.deepEqual(
      l.virtualHosts.map((v) => [v.name, v.domains]),
      [["example.com:80", ["example.com", "example.com:80"]]],
    );
    const routes = l.virtualHosts[0]!.routes;
    assert.equal(routes.length, 1);
    assert.deepEqual(
      routes[0]!.clusters?.map((c) => c.cluster),
      ["outbound|443|example-com-originate-TLS|example.com"],
    );
    // The server port was decided here; the proxy sees requests on 8080.
    assert.equal(routes[0]!.matches[0]!.port, undefined);
    const c = config.clusters.find((x) => x.name === "outbound|443|example-com-originate-TLS|example.com")!;
    assert.equal(c.type, "STRICT_DNS");
    assert.equal(c.tls?.mode, "SIMPLE");
    assert.equal(c.tls?.sni, "example.com");
  });

  it("routes passthrough TLS by SNI to the external host, untouched", () => {
    const { config } = build(buildSnapshot(mesh()), GW);
    const l = config.outbound.listeners.find((x) => x.name === "0.0.0.0_8443")!;
    assert.equal(l.protocol, "tls");
    assert.deepEqual(
      l.sniRoutes.map((r) => [r.sniHosts, r.clusters.map((c) => c.cluster)]),
      [[["example.com"], ["outbound|443||example.com"]]],
    );
    assert.equal(config.clusters.find((x) => x.name === "outbound|443||example.com")?.tls, undefined);
  });

  it("sends the sidecar's mesh route to the gateway pod's 8080 with mTLS and to 8443 without", () => {
    const { config } = build(
      buildSnapshot(mesh()),
      "sidecar~10.244.0.9~test-1.team-x~team-x.svc.cluster.local",
    );
    const host = "istio-egressgateway.istio-egress.svc.cluster.local";
    const mtls = config.clusters.find((c) => c.name === `outbound|80|target-egress-gateway-mTLS|${host}`)!;
    assert.deepEqual(
      mtls.endpoints.map((e) => [e.address, e.port, e.tls?.mode]),
      [["10.244.0.5", 8080, "ISTIO_MUTUAL"]],
    );
    assert.deepEqual(mtls.endpoints[0]!.tls?.subjectAltNames, [
      "spiffe://cluster.local/ns/istio-egress/sa/istio-egressgateway-service-account",
    ]);
    const l = config.outbound.listeners.find((x) => x.name === "0.0.0.0_80")!;
    const vh = l.virtualHosts.find((v) => v.domains.includes("example.com"))!;
    assert.equal(vh.routes[0]!.clusters?.[0]?.cluster, `outbound|80|target-egress-gateway-mTLS|${host}`);
  });

  it("merges the http routes of several VirtualServices on one host; unrouted hosts get no virtual host", () => {
    const extra = `
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: extra-paths, namespace: istio-egress }
spec:
  hosts: [example.com]
  gateways: [egress-gateway]
  http:
  - match: [{ uri: { prefix: /extra } }]
    route: [{ destination: { host: example.com, port: { number: 80 } } }]
`;
    const { config } = build(buildSnapshot(mesh(extra)), GW);
    const l = config.outbound.listeners.find((x) => x.name === "0.0.0.0_8080")!;
    assert.equal(l.virtualHosts.length, 1);
    assert.deepEqual(
      l.virtualHosts[0]!.routes.map((r) => r.clusters?.[0]?.cluster),
      ["outbound|443|example-com-originate-TLS|example.com", "outbound|80||example.com"],
    );
  });

  it("fails closed on a SIMPLE server whose credentialName Secret is missing, and serves it once it exists", () => {
    const gw = `
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: secure, namespace: istio-egress }
spec:
  selector: { istio: egressgateway }
  servers:
  - port: { number: 9443, name: https-secure, protocol: HTTPS }
    hosts: [httpbin.example.com]
    tls: { mode: SIMPLE, credentialName: httpbin-credential }
`;
    const without = build(buildSnapshot(mesh(gw)), GW);
    assert.equal(
      without.config.gateway?.ports.some((p) => p.port === 9443),
      false,
    );
    assert.ok(without.diagnostics.some((d) => d.includes("httpbin-credential")));
    const secret = `
---
apiVersion: v1
kind: Secret
metadata: { name: httpbin-credential, namespace: istio-egress }
type: kubernetes.io/tls
stringData:
  tls.crt: "-----BEGIN CERTIFICATE-----\\nCERT\\n-----END CERTIFICATE-----\\n"
  tls.key: "-----BEGIN PRIVATE KEY-----\\nKEY\\n-----END PRIVATE KEY-----\\n"
`;
    const withSecret = build(buildSnapshot(mesh(gw + secret)), GW);
    const p = withSecret.config.gateway?.ports.find((x) => x.port === 9443);
    assert.deepEqual(
      p?.tls.map((t) => [t.mode, t.hosts, t.certificateChainPem, t.privateKeyPem]),
      [["SIMPLE", ["httpbin.example.com"], CERT_PEM, KEY_PEM]],
    );
  });
});
