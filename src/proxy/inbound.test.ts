// The inbound path on loopback with a faked original destination: mTLS modes, the peer's SPIFFE id,
// connection-level authorization before any byte reaches the application, and config swaps.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import tls from "node:tls";
import { spiffeServerIdentityCheck } from "../ca/peer-identity.js";
import { testRoot } from "../ca/test-support.js";
import {
  eventually,
  exchange,
  inboundChain,
  startApp,
  startTestProxy,
  testConfig,
  testWorkload,
} from "../testing/proxy-harness.js";

const mesh = await testRoot();
const stranger = await testRoot();
const server = await testWorkload(mesh, "foo", "app");
const client = await testWorkload(mesh, "bar", "curl");
const outsider = await testWorkload(stranger, "bar", "curl");
const app = await startApp("echo");
after(() => app.close());

const mtls = (w = client): tls.ConnectionOptions => ({
  secureContext: w.identity.getSecureContext(),
  servername: "outbound_.9000_._.app.foo.svc.cluster.local",
  ALPNProtocols: ["istio"],
  checkServerIdentity: spiffeServerIdentityCheck([server.spiffeId]),
});

async function proxyWith(mode: "STRICT" | "PERMISSIVE" | "DISABLE", policies: unknown[] = []) {
  const tp = await startTestProxy(
    testConfig({ chains: [inboundChain(app.port, mode)], policies }),
    server.identity,
  );
  tp.dst.current = { address: "127.0.0.1", port: app.port, family: "IPv4" };
  after(() => tp.proxy.close());
  return tp;
}

const denyCurl = {
  apiVersion: "security.istio.io/v1",
  kind: "AuthorizationPolicy",
  metadata: { name: "tcp-policy", namespace: "foo" },
  spec: { action: "DENY", rules: [{ from: [{ source: { principals: ["cluster.local/ns/bar/sa/curl"] } }] }] },
};

test("STRICT closes plaintext at once (the app sees no connection) and accepts mTLS", async () => {
  const tp = await proxyWith("STRICT");
  const before = app.connections;
  const plain = await exchange(tp.proxy.ports.inbound, "hello");
  assert.equal(plain.data, "");
  assert.equal(app.connections, before, "no connection reached the app");
  const secure = await exchange(tp.proxy.ports.inbound, "hello", mtls());
  assert.equal(secure.data, "hello");
  await eventually("two log lines", () => tp.lines.length === 2);
  assert.match(tp.lines[0] ?? "", / 0 NR - filter_chain_not_found /);
});

test("STRICT refuses a client certificate from another root (seen server side)", async () => {
  const tp = await proxyWith("STRICT");
  const before = app.connections;
  // The client accepts anything, so the refusal is the server's own.
  const res = await exchange(tp.proxy.ports.inbound, "hello", {
    ...mtls(outsider),
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
  });
  assert.equal(res.data, "");
  assert.equal(app.connections, before);
  await eventually("log line", () => tp.lines.length === 1);
  assert.match(
    tp.lines[0] ?? "",
    /"TLS_error:handshake failed \(client certificate missing or not trusted\)"/,
  );
  assert.equal(tp.proxy.stats.snapshot()["inbound|" + app.port + "||"]?.opened, 1);
});

test("PERMISSIVE accepts plaintext and mTLS; the server reads the client's SPIFFE id", async () => {
  const tp = await proxyWith("PERMISSIVE");
  assert.equal((await exchange(tp.proxy.ports.inbound, "plain")).data, "plain");
  assert.equal((await exchange(tp.proxy.ports.inbound, "secure", mtls())).data, "secure");
  assert.deepEqual(tp.proxy.stats.peers(), {
    [`inbound|${app.port}||.source_principal.spiffe://cluster.local/ns/bar/sa/curl`]: 1,
  });
});

test("DISABLE accepts plaintext and refuses a mesh TLS handshake", async () => {
  const tp = await proxyWith("DISABLE");
  assert.equal((await exchange(tp.proxy.ports.inbound, "plain")).data, "plain");
  const before = app.connections;
  const res = await exchange(tp.proxy.ports.inbound, "secure", mtls());
  assert.equal(res.data, "");
  assert.equal(app.connections, before);
});

test("a DENY policy closes the connection before the app sees a connection or a byte", async () => {
  const tp = await proxyWith("STRICT", [denyCurl]);
  const before = { connections: app.connections, bytes: app.received.length };
  const res = await exchange(tp.proxy.ports.inbound, "secret", mtls());
  assert.equal(res.data, "");
  assert.equal(app.connections, before.connections);
  assert.equal(app.received.length, before.bytes);
  await eventually("log line", () => tp.lines.length === 1);
  assert.match(
    tp.lines[0] ?? "",
    / - rbac_access_denied_matched_policy\[ns\[foo\]-policy\[tcp-policy\]-rule\[0\]\] "-" 0 0 /,
  );
  assert.equal(tp.proxy.stats.snapshot()[`inbound|${app.port}||`]?.denied, 1);
});

test("a swapped config applies to the next connection; a bad one is refused and the old one kept", async () => {
  const tp = await proxyWith("PERMISSIVE");
  assert.equal((await exchange(tp.proxy.ports.inbound, "a", mtls())).data, "a");
  tp.proxy.updateConfig(
    testConfig({ version: "v2", chains: [inboundChain(app.port, "PERMISSIVE")], policies: [denyCurl] }),
  );
  assert.equal(tp.proxy.config()?.version, "v2");
  assert.equal((await exchange(tp.proxy.ports.inbound, "b", mtls())).data, "", "denied by the new policy");
  assert.equal((await exchange(tp.proxy.ports.inbound, "c")).data, "c", "plaintext has no principal to deny");
  assert.throws(() => tp.proxy.updateConfig({ version: "v3" }), /config rejected/);
  assert.equal(tp.proxy.config()?.version, "v2");
});

test("an HTTP chain is authorized per request with its HTTP fields (403, not a closed connection)", async () => {
  const allowGetFromCurl = {
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name: "get-only", namespace: "foo" },
    spec: {
      action: "ALLOW",
      rules: [
        {
          from: [{ source: { principals: ["cluster.local/ns/bar/sa/curl"] } }],
          to: [{ operation: { methods: ["GET"] } }],
        },
      ],
    },
  };
  const tp = await startTestProxy(
    testConfig({ chains: [inboundChain(app.port, "PERMISSIVE", "http")], policies: [allowGetFromCurl] }),
    server.identity,
  );
  after(() => tp.proxy.close());
  tp.dst.current = { address: "127.0.0.1", port: app.port, family: "IPv4" };
  const http = (method: string) => `${method} / HTTP/1.1\r\nhost: app\r\nconnection: close\r\n\r\n`;
  // curl's GET reaches the application (the echo app answers with the forwarded request itself).
  const before = app.received.length;
  await exchange(tp.proxy.ports.inbound, http("GET"), mtls());
  assert.match(Buffer.concat(app.received.slice(before)).toString(), /^GET \/ HTTP\/1\.1\r\n/);
  // curl's POST and a plaintext peer's GET are answered 403 by the proxy.
  const post = await exchange(tp.proxy.ports.inbound, http("POST"), mtls());
  assert.match(post.data, /^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*\r\n\r\nRBAC: access denied$/);
  const plain = await exchange(tp.proxy.ports.inbound, http("GET"));
  assert.match(plain.data, /^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*RBAC: access denied$/);
});

test("a proxy without config accepts nothing; an unknown port goes to the passthrough chain", async () => {
  const tp = await startTestProxy(undefined, server.identity);
  after(() => tp.proxy.close());
  tp.dst.current = { address: "127.0.0.1", port: app.port, family: "IPv4" };
  assert.equal((await exchange(tp.proxy.ports.inbound, "x")).data, "");
  tp.proxy.updateConfig(testConfig({ chains: [inboundChain(null, "PERMISSIVE")] }));
  assert.equal((await exchange(tp.proxy.ports.inbound, "y")).data, "y");
  await eventually("two lines", () => tp.lines.length === 2);
  assert.match(tp.lines[1] ?? "", / InboundPassthroughCluster /);
});

test("PERMISSIVE passes an application's own TLS (no `istio` ALPN) through as bytes", async () => {
  const tp = await proxyWith("PERMISSIVE");
  const before = app.received.length;
  const s = tls.connect({ host: "127.0.0.1", port: tp.proxy.ports.inbound, servername: "app.example" });
  s.on("error", () => undefined);
  await eventually("the ClientHello reached the app", () =>
    app.received.slice(before).some((b) => b[0] === 0x16),
  );
  s.destroy();
  assert.deepEqual(tp.proxy.stats.peers(), {});
  await eventually("log line", () => tp.lines.length === 1);
  assert.match(tp.lines[0] ?? "", / app\.example -$/);
});
