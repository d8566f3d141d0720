// Real mutual-TLS handshakes on loopback with issued SPIFFE leaves.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import tls from "node:tls";
import { spiffeServerIdentityCheck } from "./peer-identity.js";
import { T0, connectAndEcho, startMtlsServer, testIdentity, testRoot } from "./test-support.js";

const mesh = await testRoot();
const stranger = await testRoot();
const serverId = await testIdentity(mesh, "foo", "httpbin");
const { server, port, view } = await startMtlsServer(serverId);
after(() => server.close());

const expectHttpbin = spiffeServerIdentityCheck(["spiffe://cluster.local/ns/foo/sa/httpbin"]);

test("a leaf verifies against the root in a real mTLS handshake; the server reads the client's SPIFFE id", async () => {
  const client = await testIdentity(mesh, "bar", "curl");
  const before = view.accepted.length;
  const out = await connectAndEcho(port, {
    secureContext: tls.createSecureContext(client),
    checkServerIdentity: expectHttpbin,
  });
  assert.equal(out.ok, true);
  assert.deepEqual(view.accepted.slice(before), ["spiffe://cluster.local/ns/bar/sa/curl"]);
});

test("the default checkServerIdentity fails on a URI-only leaf; the SPIFFE check accepts only expected ids", async () => {
  const client = await testIdentity(mesh, "bar", "curl");
  const withDefault = await connectAndEcho(port, { ...client });
  assert.equal(withDefault.ok, false);
  assert.equal(withDefault.error, "ERR_TLS_CERT_ALTNAME_INVALID");
  const wrong = await connectAndEcho(port, {
    ...client,
    checkServerIdentity: spiffeServerIdentityCheck(["spiffe://cluster.local/ns/foo/sa/reviews"]),
  });
  assert.equal(wrong.ok, false);
  assert.equal(wrong.error, "TLS_PEER_IDENTITY");
});

test("a client certificate from another root is refused by the server", async () => {
  const intruder = await testIdentity(stranger, "bar", "curl", { trustBundle: mesh.rootsPem });
  const rejectedBefore = view.rejected.length;
  const acceptedBefore = view.accepted.length;
  const out = await connectAndEcho(port, { ...intruder, checkServerIdentity: expectHttpbin });
  assert.equal(out.ok, false);
  assert.equal(view.accepted.length, acceptedBefore, "server never accepted the connection");
  assert.deepEqual(view.rejected.slice(rejectedBefore), ["UNABLE_TO_VERIFY_LEAF_SIGNATURE"]);
});

test("an expired client leaf is refused by the server", async () => {
  const old = await testIdentity(mesh, "bar", "curl", {
    now: new Date(T0.getTime() - 48 * 3600_000),
    lifetimeMs: 3600_000,
  });
  const rejectedBefore = view.rejected.length;
  const out = await connectAndEcho(port, { ...old, checkServerIdentity: expectHttpbin });
  assert.equal(out.ok, false);
  assert.deepEqual(view.rejected.slice(rejectedBefore), ["CERT_HAS_EXPIRED"]);
});

test("a client refuses a server whose certificate is expired or from another root", async () => {
  const client = await testIdentity(mesh, "bar", "curl");
  const expiredServer = await testIdentity(mesh, "foo", "httpbin", {
    now: new Date(T0.getTime() - 48 * 3600_000),
    lifetimeMs: 3600_000,
  });
  const foreignServer = await testIdentity(stranger, "foo", "httpbin", { trustBundle: mesh.rootsPem });
  for (const [srvId, code] of [
    [expiredServer, "CERT_HAS_EXPIRED"],
    [foreignServer, "UNABLE_TO_VERIFY_LEAF_SIGNATURE"],
  ] as const) {
    const s = await startMtlsServer(srvId);
    try {
      const out = await connectAndEcho(s.port, { ...client, checkServerIdentity: expectHttpbin });
      assert.equal(out.ok, false);
      assert.equal(out.error, code);
      assert.equal(s.view.accepted.length, 0);
    } finally {
      s.server.close();
    }
  }
});
