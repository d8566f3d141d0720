// Istio's "Ingress Gateways" and "Secure Gateways" tasks on the local cluster, one cluster for the file:
// istio-ingressgateway installed by `shoal install`, httpbin in the injected default namespace, and a
// client outside the mesh (a pod without sidecar) playing the task's curl from outside, aimed at the
// gateway Service's address as the task aims at INGRESS_HOST. Certificates are made with openssl and the
// Secrets created with kubectl exactly as the task does; then a Gateway whose credentialName Secrets are
// missing or malformed, which `shoal analyze` reports while the gateway keeps serving its other servers.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SAMPLES, applyText, startMeshCluster } from "../../src/testing/mesh-e2e.js";
import type { MeshCluster } from "../../src/testing/mesh-e2e.js";
import { runtimeE2eBlocker, waitFor } from "../../src/testing/runtime-root.js";

const blocker = runtimeE2eBlocker();

// The Ingress Gateways task's Gateway and VirtualService (applied in default).
const HTTPBIN_GATEWAY = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: httpbin-gateway
spec:
  selector:
    istio: ingressgateway
  servers:
  - port:
      number: 80
      name: http
      protocol: HTTP
    hosts:
    - "httpbin.example.com"
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: httpbin
spec:
  hosts:
  - "httpbin.example.com"
  gateways:
  - httpbin-gateway
  http:
  - match:
    - uri:
        prefix: /status
    - uri:
        prefix: /delay
    route:
    - destination:
        port:
          number: 8000
        host: httpbin
`;
// The Secure Gateways task's Gateway (mode SIMPLE, then MUTUAL) and VirtualService.
const secureGateway = (mode: string) => `apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: mygateway
spec:
  selector:
    istio: ingressgateway
  servers:
  - port:
      number: 443
      name: https
      protocol: HTTPS
    tls:
      mode: ${mode}
      credentialName: httpbin-credential
    hosts:
    - httpbin.example.com
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: httpbin
spec:
  hosts:
  - "httpbin.example.com"
  gateways:
  - mygateway
  - httpbin-gateway
  http:
  - match:
    - uri:
        prefix: /status
    - uri:
        prefix: /delay
    route:
    - destination:
        port:
          number: 8000
        host: httpbin
`;
// Bad input: two more HTTPS servers whose credentials are missing and malformed.
const BROKEN_GATEWAY = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: broken
spec:
  selector:
    istio: ingressgateway
  servers:
  - port:
      number: 443
      name: https-missing
      protocol: HTTPS
    tls:
      mode: SIMPLE
      credentialName: no-such-credential
    hosts:
    - missing.example.com
  - port:
      number: 443
      name: https-malformed
      protocol: HTTPS
    tls:
      mode: SIMPLE
      credentialName: malformed-credential
    hosts:
    - malformed.example.com
`;
const MALFORMED_SECRET = `apiVersion: v1
kind: Secret
metadata:
  name: malformed-credential
  namespace: istio-system
stringData:
  tls.crt: "not a certificate"
  tls.key: "not a key"
`;

function sh(cmd: string, env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync("sh", ["-c", cmd], { env, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} exited ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

describe("Istio's ingress tasks through istio-ingressgateway", { skip: blocker, timeout: 300_000 }, () => {
  let c: MeshCluster;
  let certs = "";
  let ip = "";
  let kubectlEnv: NodeJS.ProcessEnv = {};
  /** The status code `curl ARGS` gets from outside the mesh (`000` when it got no answer). */
  const code = async (args: string) => {
    const r = await c.sh("curl", "outside", `curl -s -o /dev/null -w '%{http_code}' ${args}`);
    return r.stdout.trim();
  };
  /** Polls until curl gets `want` (a config reaches the gateway a moment after the write returns). */
  const expectCode = (args: string, want: string) =>
    waitFor(`${want} from curl ${args}`, async () => (await code(args)) === want, 10_000).catch(
      async (err: Error) => {
        throw new Error(`${err.message}; last answer ${await code(args)}`);
      },
    );
  const kubectl = (args: string) => sh(`kubectl ${args}`, kubectlEnv);

  before(async () => {
    c = await startMeshCluster("ingress");
    certs = await mkdtemp(join(tmpdir(), "shoal-ingress-certs-"));
    kubectlEnv = { ...process.env, KUBECONFIG: join(c.stateDir, "kubeconfig") };
    const installed = await c.ok(["install", "-y"], { timeoutMs: 90_000 });
    assert.match(installed, /✔ Ingress gateways installed/);
    await c.ok(["label", "namespace", "default", "istio-injection=enabled"]);
    await c.ok(["apply", "-f", join(SAMPLES, "httpbin", "httpbin.yaml"), "-n", "default"]);
    await c.ok(["create", "namespace", "outside"]);
    await c.ok(["apply", "-f", join(SAMPLES, "curl", "curl.yaml"), "-n", "outside"]);
    await Promise.all([c.waitPods("default", 1), c.waitPods("outside", 1), c.waitPods("istio-system", 1)]);
    ip = (
      await c.ok([
        "get",
        "svc",
        "istio-ingressgateway",
        "-n",
        "istio-system",
        "-o",
        "jsonpath={.spec.clusterIP}",
      ])
    ).trim();
    assert.match(ip, /^10\.96\./);
  });
  after(async () => {
    await c?.close();
    if (certs) await rm(certs, { recursive: true, force: true });
  });

  it("Ingress Gateways: routed paths 200, an unrouted path or host 404", async () => {
    await applyText(c, HTTPBIN_GATEWAY, "default");
    await expectCode(`-HHost:httpbin.example.com http://${ip}/status/200`, "200");
    assert.equal(await code(`-HHost:httpbin.example.com http://${ip}/headers`), "404");
    assert.equal(await code(`-HHost:other.example.com http://${ip}/status/200`), "404");
    assert.equal(await code(`http://${ip}/status/200`), "404");
  });

  it("Secure Gateways: SIMPLE with a kubernetes.io/tls credential", async () => {
    // The task's certificates: a root for example.com and a server certificate for httpbin.example.com.
    sh(
      `cd ${certs} && openssl req -x509 -sha256 -nodes -days 365 -newkey rsa:2048 -subj '/O=example Inc./CN=example.com' -keyout example.com.key -out example.com.crt 2>/dev/null` +
        ` && openssl req -out httpbin.example.com.csr -newkey rsa:2048 -nodes -keyout httpbin.example.com.key -subj "/CN=httpbin.example.com/O=httpbin organization" 2>/dev/null` +
        ` && openssl x509 -req -sha256 -days 365 -CA example.com.crt -CAkey example.com.key -set_serial 0 -in httpbin.example.com.csr -out httpbin.example.com.crt 2>/dev/null` +
        ` && openssl req -out client.example.com.csr -newkey rsa:2048 -nodes -keyout client.example.com.key -subj "/CN=client.example.com/O=client organization" 2>/dev/null` +
        ` && openssl x509 -req -sha256 -days 365 -CA example.com.crt -CAkey example.com.key -set_serial 1 -in client.example.com.csr -out client.example.com.crt 2>/dev/null`,
    );
    kubectl(
      `create -n istio-system secret tls httpbin-credential --key=${certs}/httpbin.example.com.key --cert=${certs}/httpbin.example.com.crt`,
    );
    await applyText(c, secureGateway("SIMPLE"), "default");
    const https = `--resolve httpbin.example.com:443:${ip} --cacert ${certs}/example.com.crt https://httpbin.example.com/status/418`;
    await expectCode(https, "418");
    const body = await c.sh("curl", "outside", `curl -s ${https}`);
    assert.match(body.stdout, /teapot/i);
    // Plain HTTP keeps working beside it.
    assert.equal(await code(`-HHost:httpbin.example.com http://${ip}/status/200`), "200");
  });

  it("bad credentials: analyze names gateway, server and Secret; the gateway keeps serving the rest", async () => {
    await applyText(c, MALFORMED_SECRET, "istio-system");
    await applyText(c, BROKEN_GATEWAY, "default");
    const r = await c.shoal(["analyze", "-n", "default"]);
    const lines = r.stdout.split("\n").filter((l) => l.includes("IST0161"));
    assert.equal(lines.length, 2, r.stdout + r.stderr);
    assert.match(
      lines.join("\n"),
      /\(Gateway default\/broken\) Invalid credentialName "no-such-credential" for server 0 \(port 443 https-missing, hosts missing\.example\.com\): Secret istio-system\/no-such-credential \(credentialName\) does not exist/,
    );
    assert.match(
      lines.join("\n"),
      /\(Gateway default\/broken\) Invalid credentialName "malformed-credential" for server 1 \(port 443 https-malformed, hosts malformed\.example\.com\): Secret istio-system\/malformed-credential: tls\.crt holds no PEM certificate/,
    );
    // The good server on the same port and the HTTP port still answer.
    assert.equal(
      await code(
        `--resolve httpbin.example.com:443:${ip} --cacert ${certs}/example.com.crt https://httpbin.example.com/status/418`,
      ),
      "418",
    );
    assert.equal(await code(`-HHost:httpbin.example.com http://${ip}/status/200`), "200");
    // The broken hosts get no certificate: the handshake fails.
    assert.equal(
      await code(`-k --resolve missing.example.com:443:${ip} https://missing.example.com/status/200`),
      "000",
    );
    await c.ok(["delete", "gateway", "broken", "-n", "default"]);
    const clean = await c.shoal(["analyze", "-n", "default"]);
    assert.doesNotMatch(clean.stdout, /IST0161/);
  });

  it("Secure Gateways: MUTUAL refuses a client without a certificate and admits one with", async () => {
    kubectl("-n istio-system delete secret httpbin-credential");
    kubectl(
      `create -n istio-system secret generic httpbin-credential --from-file=tls.key=${certs}/httpbin.example.com.key --from-file=tls.crt=${certs}/httpbin.example.com.crt --from-file=ca.crt=${certs}/example.com.crt`,
    );
    await applyText(c, secureGateway("MUTUAL"), "default");
    const base = `--resolve httpbin.example.com:443:${ip} --cacert ${certs}/example.com.crt`;
    const withCert = `${base} --cert ${certs}/client.example.com.crt --key ${certs}/client.example.com.key https://httpbin.example.com/status/418`;
    await expectCode(withCert, "418");
    const without = await c.sh(
      "curl",
      "outside",
      `curl -s -o /dev/null -w '%{http_code}' ${base} https://httpbin.example.com/status/418`,
    );
    assert.equal(without.stdout.trim(), "000");
    assert.notEqual(without.code, 0, "curl reports the failed handshake");
  });
});
