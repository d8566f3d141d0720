// Terminated TLS on a gateway HTTP port: MUTUAL verifies the client certificate against the server's CA
// and, when `subjectAltNames` is set, requires one of its SANs; requests arriving over terminated TLS
// carry `x-forwarded-proto: https` upstream, plaintext ones `http`.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { testRoot } from "../ca/test-support.js";
import { request, startDetailsApp } from "../testing/http-harness.js";
import type { HttpApp } from "../testing/http-harness.js";
import type { TestWorkload } from "../testing/proxy-harness.js";
import { asGatewayConfig, startTestProxy, testConfig, testWorkload } from "../testing/proxy-harness.js";
import type { GatewayTls, ProxyConfig } from "./proxy-config.js";

function config(appPort: number, tlsContext: GatewayTls): ProxyConfig {
  const vhost = {
    name: "httpbin.example.com",
    domains: ["httpbin.example.com"],
    routes: [{ name: "r", matches: [], clusters: [{ cluster: "outbound|8000||httpbin", weight: 100 }] }],
  };
  const base = testConfig({
    namespace: "istio-system",
    defaultCluster: "BlackHoleCluster",
    listeners: [8080, 8443].map((port) => ({
      name: `0.0.0.0_${port}`,
      address: "0.0.0.0",
      port,
      protocol: "http",
      virtualHosts: [vhost],
    })),
    clusters: [
      { name: "outbound|8000||httpbin", type: "EDS", endpoints: [{ address: "127.0.0.1", port: appPort }] },
    ],
  });
  return asGatewayConfig(base, [
    { port: 8080, serverPort: 80, listener: "0.0.0.0_8080", tls: [] },
    { port: 8443, serverPort: 443, listener: "0.0.0.0_8443", tls: [tlsContext] },
  ]);
}

describe("gateway MUTUAL TLS and x-forwarded-proto", () => {
  let app: HttpApp;
  let gw: TestWorkload;
  let allowed: TestWorkload;
  let other: TestWorkload;

  before(async () => {
    const ca = await testRoot();
    gw = await testWorkload(ca, "istio-system", "istio-ingressgateway");
    allowed = await testWorkload(ca, "clients", "allowed");
    other = await testWorkload(ca, "clients", "other");
    app = await startDetailsApp();
  });
  after(() => app.close());

  async function start(subjectAltNames: string[]) {
    const ctx: GatewayTls = {
      hosts: ["httpbin.example.com"],
      mode: "MUTUAL",
      certificateChainPem: gw.pem.cert,
      privateKeyPem: gw.pem.key,
      caCertificatesPem: gw.pem.ca,
      subjectAltNames,
    };
    const t = await startTestProxy(config(app.port, ctx), gw.identity, { gateway: { bindPort: () => 0 } });
    const ports = t.proxy.gatewayPorts();
    return { ...t, plain: ports.get(8080)!, secure: ports.get(8443)! };
  }
  const client = (w: TestWorkload | undefined) => ({
    ...(w ? { key: w.pem.key, cert: w.pem.cert } : {}),
    ca: gw.pem.ca,
    servername: "httpbin.example.com",
    checkServerIdentity: () => undefined,
  });
  const get = (port: number, tls?: ReturnType<typeof client>) =>
    request(port, { path: "/status/200", host: "httpbin.example.com", ...(tls ? { tls } : {}) });

  it("sets x-forwarded-proto https after terminating TLS and http on a plaintext port", async () => {
    const t = await start([]);
    try {
      assert.equal((await get(t.secure, client(allowed))).status, 200);
      assert.equal(app.seen.at(-1)!.headers["x-forwarded-proto"], "https");
      assert.equal((await get(t.plain)).status, 200);
      assert.equal(app.seen.at(-1)!.headers["x-forwarded-proto"], "http");
      // A client cannot claim https on a plaintext connection.
      const spoof = await request(t.plain, {
        path: "/",
        host: "httpbin.example.com",
        headers: { "x-forwarded-proto": "https" },
      });
      assert.equal(spoof.status, 200);
      assert.equal(app.seen.at(-1)!.headers["x-forwarded-proto"], "http");
    } finally {
      await t.proxy.close();
    }
  });

  it("MUTUAL without subjectAltNames: any client certificate of the CA; none is refused", async () => {
    const t = await start([]);
    try {
      assert.equal((await get(t.secure, client(other))).status, 200);
      const before = app.seen.length;
      await assert.rejects(get(t.secure, client(undefined)));
      assert.equal(app.seen.length, before, "no request reached the app");
    } finally {
      await t.proxy.close();
    }
  });

  it("MUTUAL with subjectAltNames admits only a certificate carrying one of them", async () => {
    const t = await start([allowed.spiffeId]);
    try {
      assert.equal((await get(t.secure, client(allowed))).status, 200);
      const before = app.seen.length;
      await assert.rejects(get(t.secure, client(other)));
      assert.equal(app.seen.length, before, "the other client's request never reached the app");
      assert.ok(
        t.lines.some((l) => l.includes("client certificate SAN not in subjectAltNames")),
        t.lines.join("\n"),
      );
    } finally {
      await t.proxy.close();
    }
  });
});
