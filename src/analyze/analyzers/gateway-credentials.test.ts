import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { testIdentity, testRoot } from "../../ca/test-support.js";
import { messagesWith } from "./test-support.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");

const gatewayPod = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: istio-ingressgateway, namespace: istio-system }
spec:
  selector: { matchLabels: { istio: ingressgateway } }
  template:
    metadata: { labels: { istio: ingressgateway } }
    spec: { containers: [{ name: istio-proxy, image: auto }] }
`;
const gateway = (mode: string) => `
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: mygateway, namespace: default }
spec:
  selector: { istio: ingressgateway }
  servers:
  - port: { number: 80, name: http, protocol: HTTP }
    hosts: ["*"]
  - port: { number: 443, name: https, protocol: HTTPS }
    hosts: [httpbin.example.com]
    tls: { mode: ${mode}, credentialName: httpbin-credential }
`;
const secret = (data: Record<string, string>, namespace = "istio-system") => `
---
apiVersion: v1
kind: Secret
metadata: { name: httpbin-credential, namespace: ${namespace} }
data:
${Object.entries(data)
  .map(([k, v]) => `  ${k}: ${b64(v)}`)
  .join("\n")}
`;

describe("IST0161 InvalidGatewayCredential", () => {
  let cert = "";
  let key = "";
  let otherKey = "";
  before(async () => {
    const ca = await testRoot();
    const a = await testIdentity(ca, "istio-system", "a");
    const b = await testIdentity(ca, "istio-system", "b");
    [cert, key, otherKey] = [a.cert, a.key, b.key];
  });
  const run = (yaml: string) => messagesWith("IST0161", gatewayPod + yaml);
  const prefix =
    'Error [IST0161] (Gateway default/mygateway) Invalid credentialName "httpbin-credential" for server 1 (port 443 https, hosts httpbin.example.com): ';
  const suffix =
    ". The gateway in namespace istio-system refuses TLS for this server and keeps serving its other servers.";

  it("is quiet for a usable Secret in the gateway workload's namespace", () => {
    assert.deepEqual(run(gateway("SIMPLE") + secret({ "tls.crt": cert, "tls.key": key })), []);
    assert.deepEqual(
      run(gateway("MUTUAL") + secret({ "tls.crt": cert, "tls.key": key, "ca.crt": cert })),
      [],
    );
  });

  it("names gateway, server and Secret when the Secret is missing, incomplete or malformed", () => {
    const cases: Array<[string, string, string]> = [
      [
        "missing",
        gateway("SIMPLE"),
        "Secret istio-system/httpbin-credential (credentialName) does not exist",
      ],
      [
        "in the Gateway's namespace, not the workload's",
        gateway("SIMPLE") + secret({ "tls.crt": cert, "tls.key": key }, "default"),
        "Secret istio-system/httpbin-credential (credentialName) does not exist",
      ],
      [
        "no key",
        gateway("SIMPLE") + secret({ "tls.crt": cert }),
        "Secret istio-system/httpbin-credential has no tls.crt and tls.key (or cert and key)",
      ],
      [
        "not PEM",
        gateway("SIMPLE") + secret({ "tls.crt": "hello", "tls.key": key }),
        "Secret istio-system/httpbin-credential: tls.crt holds no PEM certificate",
      ],
      [
        "PEM that does not parse",
        gateway("SIMPLE") +
          secret({
            "tls.crt": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "tls.key": key,
          }),
        "Secret istio-system/httpbin-credential: tls.crt does not parse as a certificate",
      ],
      [
        "key of another certificate",
        gateway("SIMPLE") + secret({ "tls.crt": cert, "tls.key": otherKey }),
        "Secret istio-system/httpbin-credential: tls.key is not the key of the certificate in tls.crt",
      ],
      [
        "MUTUAL without a CA",
        gateway("MUTUAL") + secret({ "tls.crt": cert, "tls.key": key }),
        "Secret istio-system/httpbin-credential has no ca.crt (nor a Secret httpbin-credential-cacert) to verify clients with",
      ],
    ];
    for (const [what, yaml, problem] of cases) {
      const got = run(yaml);
      assert.equal(got.length, 1, `${what}: ${got.join("\n")}`);
      assert.ok(got[0]!.startsWith(prefix + problem), `${what}:\n${got[0]}`);
      assert.ok(got[0]!.endsWith(suffix), `${what}:\n${got[0]}`);
    }
  });

  it("says nothing when no workload in the input is selected (files analyzed on their own)", () => {
    assert.deepEqual(messagesWith("IST0161", gateway("SIMPLE")), []);
  });
});
