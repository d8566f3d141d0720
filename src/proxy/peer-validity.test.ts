// Peers' leaves must be within their validity period: the proxy's inbound mTLS refuses a client leaf
// that has expired or is not yet valid (nothing reaches the application), and a mesh client refuses a
// server presenting one. Leaves are issued by the mesh root with past and future validity.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import tls from "node:tls";
import { spiffeServerIdentityCheck } from "../ca/peer-identity.js";
import { T0, startMtlsServer, testIdentity, testRoot } from "../ca/test-support.js";
import {
  eventually,
  exchange,
  inboundChain,
  startApp,
  startTestProxy,
  testConfig,
  testWorkload,
} from "../testing/proxy-harness.js";

const HOUR = 3600_000;
const mesh = await testRoot();
const server = await testWorkload(mesh, "foo", "app");
const app = await startApp("echo");
after(() => app.close());

const tp = await startTestProxy(
  testConfig({ chains: [inboundChain(app.port, "STRICT", "tcp")] }),
  server.identity,
);
tp.dst.current = { address: "127.0.0.1", port: app.port, family: "IPv4" };
after(() => tp.proxy.close());

/** Leaves of bar/curl: current, expired an hour ago, and valid only from an hour from now. */
const leaves = {
  valid: await testIdentity(mesh, "bar", "curl"),
  expired: await testIdentity(mesh, "bar", "curl", {
    now: new Date(T0.getTime() - 3 * HOUR),
    lifetimeMs: HOUR,
  }),
  notYetValid: await testIdentity(mesh, "bar", "curl", { now: new Date(T0.getTime() + HOUR) }),
};

const viaProxy = (leaf: { key: string; cert: string; ca: string }) =>
  exchange(tp.proxy.ports.inbound, "hello", {
    secureContext: tls.createSecureContext({ ...leaf, minVersion: "TLSv1.2" }),
    ALPNProtocols: ["istio"],
    servername: "outbound_.9000_._.app.foo.svc.cluster.local",
    checkServerIdentity: spiffeServerIdentityCheck([server.spiffeId]),
  });

test("the inbound listener accepts a current client leaf", async () => {
  const res = await viaProxy(leaves.valid);
  assert.equal(res.data, "hello");
});

for (const kind of ["expired", "notYetValid"] as const)
  test(`the inbound listener refuses a client leaf that is ${kind === "expired" ? "expired" : "not yet valid"}`, async () => {
    const before = app.connections;
    const lines = tp.lines.length;
    const res = await viaProxy(leaves[kind]);
    assert.equal(res.data, "", "no byte came back");
    await eventually("the refusal's log line", () => tp.lines.length > lines);
    assert.match(tp.lines.at(-1) ?? "", /"TLS_error:handshake failed/);
    assert.equal(app.connections, before, "the application saw no connection");
  });

test("a mesh client refuses a server whose leaf is expired or not yet valid", async () => {
  const client = leaves.valid;
  const expect = ["spiffe://cluster.local/ns/foo/sa/httpbin"];
  for (const [when, code] of [
    [{ now: new Date(T0.getTime() - 3 * HOUR), lifetimeMs: HOUR }, "CERT_HAS_EXPIRED"],
    [{ now: new Date(T0.getTime() + HOUR) }, "CERT_NOT_YET_VALID"],
  ] as const) {
    const srv = await startMtlsServer(await testIdentity(mesh, "foo", "httpbin", when));
    try {
      const got = await new Promise<string>((resolve) => {
        const s = tls.connect({
          host: "127.0.0.1",
          port: srv.port,
          secureContext: tls.createSecureContext({ ...client, minVersion: "TLSv1.2" }),
          servername: "outbound.shoal.local",
          checkServerIdentity: spiffeServerIdentityCheck(expect),
        });
        s.on("secureConnect", () => {
          s.destroy();
          resolve("connected");
        });
        s.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      });
      assert.equal(got, code);
      assert.deepEqual(srv.view.accepted, []);
    } finally {
      srv.server.close();
    }
  }
});
