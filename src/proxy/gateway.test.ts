import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import tls from "node:tls";
import { after, before, describe, it } from "node:test";
import type { CertificateAuthority } from "../ca/authority.js";
import { testRoot } from "../ca/test-support.js";
import { request, startDetailsApp } from "../testing/http-harness.js";
import type { HttpApp } from "../testing/http-harness.js";
import type { TestWorkload } from "../testing/proxy-harness.js";
import {
  asGatewayConfig,
  eventually,
  exchange,
  startTestProxy,
  testConfig,
  testWorkload,
} from "../testing/proxy-harness.js";
import { pickTls, serverNameMatches } from "./gateway.js";
import type { ProxyConfig } from "./proxy-config.js";

const policyFromTeamX = {
  apiVersion: "security.istio.io/v1",
  kind: "AuthorizationPolicy",
  metadata: { name: "egress-team-x", namespace: "istio-egress" },
  spec: {
    action: "ALLOW",
    rules: [
      {
        from: [{ source: { namespaces: ["team-x"] } }],
        to: [{ operation: { hosts: ["example.com"] } }],
        when: [{ key: "destination.port", values: ["8080"] }],
      },
      { when: [{ key: "destination.port", values: ["8443"] }] },
    ],
  },
};

function gatewayConfig(appPort: number, tlsAppPort: number, withPolicy: boolean): ProxyConfig {
  const base = testConfig({
    namespace: "istio-egress",
    defaultCluster: "BlackHoleCluster",
    policies: withPolicy ? [policyFromTeamX] : [],
    listeners: [
      {
        name: "0.0.0.0_8080",
        address: "0.0.0.0",
        port: 8080,
        protocol: "http",
        virtualHosts: [
          {
            name: "example.com:80",
            domains: ["example.com", "example.com:80"],
            routes: [
              { name: "r", matches: [], clusters: [{ cluster: "outbound|80||example.com", weight: 100 }] },
            ],
          },
        ],
      },
      {
        name: "0.0.0.0_8443",
        address: "0.0.0.0",
        port: 8443,
        protocol: "tls",
        sniRoutes: [
          { sniHosts: ["example.com"], clusters: [{ cluster: "outbound|443||example.com", weight: 1 }] },
        ],
      },
    ],
    clusters: [
      {
        name: "outbound|80||example.com",
        type: "EDS",
        endpoints: [{ address: "127.0.0.1", port: appPort }],
      },
      {
        name: "outbound|443||example.com",
        type: "EDS",
        endpoints: [{ address: "127.0.0.1", port: tlsAppPort }],
      },
    ],
  });
  return asGatewayConfig(base, [
    {
      port: 8080,
      serverPort: 80,
      listener: "0.0.0.0_8080",
      tls: [{ hosts: ["*"], mode: "ISTIO_MUTUAL" }],
    },
    { port: 8443, serverPort: 443, listener: "0.0.0.0_8443", tls: [] },
  ]);
}

describe("gateway TLS contexts", () => {
  it("matches server names exactly, by wildcard suffix, and * for anything", () => {
    assert.equal(serverNameMatches("*", undefined), true);
    assert.equal(serverNameMatches("*.example.com", "a.example.com"), true);
    assert.equal(serverNameMatches("*.example.com", "example.com"), false);
    assert.equal(serverNameMatches("httpbin.example.com", "HTTPBIN.example.com"), true);
  });
  it("picks the most specific context", () => {
    const any = { hosts: ["*"], mode: "SIMPLE" as const, subjectAltNames: [] };
    const one = { hosts: ["a.example.com"], mode: "MUTUAL" as const, subjectAltNames: [] };
    const wild = { hosts: ["*.example.com"], mode: "SIMPLE" as const, subjectAltNames: [] };
    assert.equal(pickTls([any, wild, one], "a.example.com"), one);
    assert.equal(pickTls([any, wild, one], "b.example.com"), wild);
    assert.equal(pickTls([any, wild, one], undefined), any);
    assert.equal(pickTls([one], "other"), undefined);
  });
});

describe("gateway proxy on loopback", () => {
  let ca: CertificateAuthority;
  let gw: TestWorkload;
  let teamX: TestWorkload;
  let teamY: TestWorkload;
  let app: HttpApp;
  let tlsApp: tls.Server;
  let tlsAppPort = 0;

  before(async () => {
    ca = await testRoot();
    gw = await testWorkload(ca, "istio-egress", "istio-egressgateway");
    teamX = await testWorkload(ca, "team-x", "test");
    teamY = await testWorkload(ca, "team-y", "test");
    app = await startDetailsApp();
    // The outside world's TLS server: answers with the server name the client asked for.
    tlsApp = tls.createServer({ key: gw.pem.key, cert: gw.pem.cert }, (s) => {
      s.on("error", () => undefined);
      s.end(`hello ${s.servername || "-"}`);
    });
    tlsApp.listen(0, "127.0.0.1");
    await once(tlsApp, "listening");
    tlsAppPort = (tlsApp.address() as AddressInfo).port;
  });
  after(async () => {
    await app.close();
    tlsApp.close();
  });

  async function start(withPolicy: boolean) {
    const t = await startTestProxy(gatewayConfig(app.port, tlsAppPort, withPolicy), gw.identity, {
      gateway: { bindPort: () => 0 },
    });
    const ports = t.proxy.gatewayPorts();
    return { ...t, http: ports.get(8080)!, tls: ports.get(8443)! };
  }
  const meshTls = (w: TestWorkload) => ({
    key: w.pem.key,
    cert: w.pem.cert,
    ca: w.pem.ca,
    servername: "example.com",
    checkServerIdentity: () => undefined,
  });

  it("opens only its gateway ports (no capture listeners)", async () => {
    const t = await start(false);
    try {
      assert.equal(t.proxy.ports.inbound, 0);
      assert.equal(t.proxy.ports.outbound, 0);
      assert.deepEqual([...t.proxy.gatewayPorts().keys()].sort(), [8080, 8443]);
    } finally {
      await t.proxy.close();
    }
  });

  it("terminates ISTIO_MUTUAL and routes by host; a client without a mesh certificate is refused", async () => {
    const t = await start(false);
    try {
      const ok = await request(t.http, { path: "/get", host: "example.com", tls: meshTls(teamX) });
      assert.equal(ok.status, 200);
      const seen = app.seen.at(-1)!;
      assert.equal(seen.headers["x-forwarded-for"], "127.0.0.1");
      const nohost = await request(t.http, { path: "/", host: "other.org", tls: meshTls(teamX) });
      assert.equal(nohost.status, 404);
      await assert.rejects(
        request(t.http, { path: "/", host: "example.com", tls: { rejectUnauthorized: false } }),
      );
      await eventually("access log", () => t.lines.some((l) => l.includes("outbound|80||example.com")));
      const line = t.lines.find((l) => l.includes("outbound|80||example.com"))!;
      assert.match(line, /"GET \/get HTTP\/1.1" 200 /);
      assert.match(line, /"example.com"/);
    } finally {
      await t.proxy.close();
    }
  });

  it("authorizes by source namespace, host and destination.port (the container port)", async () => {
    const t = await start(true);
    try {
      const x = await request(t.http, { path: "/", host: "example.com", tls: meshTls(teamX) });
      assert.equal(x.status, 200);
      const y = await request(t.http, { path: "/", host: "example.com", tls: meshTls(teamY) });
      assert.equal(y.status, 403);
      assert.equal(y.body, "RBAC: access denied");
    } finally {
      await t.proxy.close();
    }
  });

  it("passes TLS through by SNI without terminating it, logging a TCP line", async () => {
    const t = await start(true);
    try {
      const r = await exchange(t.tls, "", { servername: "example.com", rejectUnauthorized: false });
      assert.equal(r.data, "hello example.com");
      const other = await exchange(t.tls, "", { servername: "other.org", rejectUnauthorized: false });
      assert.equal(other.data, "");
      await eventually("tcp log", () => t.lines.some((l) => l.includes("outbound|443||example.com")));
      const line = t.lines.find((l) => l.includes("outbound|443||example.com"))!;
      assert.match(line, /"- - -" 0 /);
      assert.match(line, / example\.com -$/);
    } finally {
      await t.proxy.close();
    }
  });

  it("closes ports a new config drops and opens new ones", async () => {
    const t = await start(false);
    try {
      const cfg = gatewayConfig(app.port, tlsAppPort, false);
      t.proxy.updateConfig({ ...cfg, version: "v2", gateway: { ports: [cfg.gateway!.ports[1]!] } });
      await eventually("port 8080 closed", () => !t.proxy.gatewayPorts().has(8080));
      assert.deepEqual([...t.proxy.gatewayPorts().keys()], [8443]);
    } finally {
      await t.proxy.close();
    }
  });
});
