import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { AnyResource } from "../api/meta.js";
import { buildSnapshot } from "../controlplane/snapshot.js";
import { build } from "./build.js";
import { credentialFrom } from "./gateway-credentials.js";
import { pod, resourcesFromYaml, service } from "./test-support.js";

const CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
const RSA_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n";
const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("credentialName lookup", () => {
  const secret = (name: string, data: Record<string, string>, namespace = "istio-system") => ({
    namespace,
    name,
    stringData: data,
  });
  it("reads tls.crt/tls.key (or cert/key), the CA from ca.crt or NAME-cacert, and checks they look like PEM", () => {
    const cases: Array<[string, ReturnType<typeof secret>[], string | undefined]> = [
      ["tls keys", [secret("c", { "tls.crt": CERT, "tls.key": KEY })], undefined],
      ["generic keys + RSA key", [secret("c", { cert: CERT, key: RSA_KEY })], undefined],
      ["ca.crt", [secret("c", { "tls.crt": CERT, "tls.key": KEY, "ca.crt": CERT })], undefined],
      [
        "separate cacert Secret",
        [secret("c", { "tls.crt": CERT, "tls.key": KEY }), secret("c-cacert", { "ca.crt": CERT })],
        undefined,
      ],
      ["missing", [], "Secret istio-system/c (credentialName) does not exist"],
      [
        "other namespace only",
        [secret("c", { "tls.crt": CERT, "tls.key": KEY }, "default")],
        "does not exist",
      ],
      ["no key", [secret("c", { "tls.crt": CERT })], "has no tls.crt and tls.key"],
      [
        "cert not PEM",
        [secret("c", { "tls.crt": "hello", "tls.key": KEY })],
        "tls.crt holds no PEM certificate",
      ],
      [
        "key not PEM",
        [secret("c", { "tls.crt": CERT, "tls.key": CERT })],
        "tls.key holds no PEM private key",
      ],
      [
        "ca not PEM",
        [secret("c", { "tls.crt": CERT, "tls.key": KEY, "ca.crt": "x" })],
        "ca.crt holds no PEM",
      ],
    ];
    for (const [what, secrets, error] of cases) {
      const c = credentialFrom(secrets, "istio-system", "c");
      if (error === undefined) assert.equal(c.ok, true, what);
      else assert.ok(!c.ok && c.error.includes(error), `${what}: ${JSON.stringify(c)}`);
    }
    const fromData = credentialFrom(
      [{ namespace: "ns", name: "c", data: { "tls.crt": b64(CERT), "tls.key": b64(KEY) } }],
      "ns",
      "c",
    );
    assert.deepEqual(fromData, { ok: true, cert: CERT, key: KEY, ca: undefined });
  });
});

const GW = "router~10.244.0.9~istio-ingressgateway-1.istio-system~istio-system.svc.cluster.local";

function ingressMesh(yaml: string): AnyResource[] {
  return [
    pod({
      ns: "istio-system",
      name: "istio-ingressgateway-1",
      ip: "10.244.0.9",
      labels: { app: "istio-ingressgateway", istio: "ingressgateway" },
      sa: "istio-ingressgateway-service-account",
    }),
    service(
      "istio-system",
      "istio-ingressgateway",
      "10.96.0.60",
      [
        { name: "http2", port: 80, targetPort: 8080 },
        { name: "https", port: 443, targetPort: 8443 },
        { name: "https-other", port: 9443, targetPort: 9443 },
      ],
      { istio: "ingressgateway" },
    ),
    pod({ ns: "default", name: "httpbin-1", ip: "10.244.0.10", labels: { app: "httpbin" } }),
    service("default", "httpbin", "10.96.0.61", [{ name: "http", port: 8000, targetPort: 8080 }]),
    ...resourcesFromYaml(yaml),
  ];
}

// The Secure Gateways task: Gateway and VirtualService in default, the Secret beside the gateway pod.
const gateway = (servers: string) => `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: mygateway, namespace: default }
spec:
  selector: { istio: ingressgateway }
  servers:
${servers}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: httpbin, namespace: default }
spec:
  hosts: ["*"]
  gateways: [mygateway]
  http:
  - route: [{ destination: { host: httpbin, port: { number: 8000 } } }]
`;
const server = (
  port: number,
  host: string,
  credential: string,
) => `  - port: { number: ${port}, name: https-${port}-${host.split(".")[0]}, protocol: HTTPS }
    hosts: [${host}]
    tls: { mode: SIMPLE, credentialName: ${credential} }`;
const plain = `  - port: { number: 80, name: http, protocol: HTTP }
    hosts: ["*"]`;
const tlsSecret = (name: string, cert = CERT) => `
---
apiVersion: v1
kind: Secret
metadata: { name: ${name}, namespace: istio-system }
type: kubernetes.io/tls
stringData: { tls.crt: ${JSON.stringify(cert)}, tls.key: ${JSON.stringify(KEY)} }`;

describe("gateway servers with bad credentials", () => {
  it("a Secret in the gateway workload's namespace serves a Gateway of another namespace", () => {
    const r = build(
      buildSnapshot(
        ingressMesh(
          gateway(server(443, "httpbin.example.com", "httpbin-credential")) + tlsSecret("httpbin-credential"),
        ),
      ),
      GW,
    );
    const p = r.config.gateway?.ports.find((x) => x.port === 8443);
    assert.deepEqual(
      p?.tls.map((t) => [t.mode, t.hosts, t.certificateChainPem]),
      [["SIMPLE", ["httpbin.example.com"], CERT]],
    );
  });

  it("drops only the server whose Secret is missing or malformed; other servers and ports keep serving", () => {
    const yaml =
      gateway(
        [
          plain,
          server(443, "good.example.com", "good-credential"),
          server(443, "missing.example.com", "missing-credential"),
          server(9443, "bad.example.com", "bad-credential"),
        ].join("\n"),
      ) +
      tlsSecret("good-credential") +
      tlsSecret("bad-credential", "not a certificate");
    const r = build(buildSnapshot(ingressMesh(yaml)), GW);
    const ports = r.config.gateway?.ports ?? [];
    assert.deepEqual(
      ports.map((p) => [p.port, p.tls.map((t) => t.hosts[0])]),
      [
        [8080, []],
        [8443, ["good.example.com"]],
      ],
    );
    const d = r.diagnostics.join("\n");
    assert.match(
      d,
      /Gateway default\/mygateway servers\[2\]: Secret istio-system\/missing-credential \(credentialName\) does not exist/,
    );
    assert.match(
      d,
      /Gateway default\/mygateway servers\[3\]: Secret istio-system\/bad-credential: tls.crt holds no PEM certificate/,
    );
  });
});
