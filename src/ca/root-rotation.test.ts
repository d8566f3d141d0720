// Root rotation end to end on loopback: two identity clients (a server proxy and a client proxy) get
// leaves from the CA, a connection is opened before the rotation, and the rotation's hooks push the
// trust to both. The open connection keeps echoing through every phase, new handshakes work in every
// phase, and at the end both leaves are under the new root and only it is trusted.
import assert from "node:assert/strict";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { isShoalError } from "../api/errors.js";
import { generateTokenSigningKey, mintBootstrapToken } from "./bootstrap-token.js";
import { createCaService } from "./ca-service.js";
import { issuingRoot } from "./chain-root.js";
import { IdentityClient } from "./identity-client.js";
import { MeshRoots } from "./mesh-roots.js";
import { followRotations, mtlsClientOptions, mtlsServerOptions } from "./mtls-options.js";
import { rotateRoot } from "./root-rotation.js";
import type { ProxyLeaf } from "./root-rotation.js";
import { splitPemCertificates } from "./pem.js";
import { connectAndEcho, echoOn, startMtlsServer } from "./test-support.js";

const stateDir = await mkdtemp(join(tmpdir(), "shoal-rotation-"));
after(() => rm(stateDir, { recursive: true, force: true }));
const cp = generateTokenSigningKey();

function proxy(ca: ReturnType<typeof createCaService>, namespace: string, sa: string): IdentityClient {
  return new IdentityClient({
    requestCertificate: (csr, token) => ca.sign(csr, token),
    token: () =>
      mintBootstrapToken({
        signingKey: cp.privateKey,
        namespace,
        serviceAccount: sa,
        pod: `${sa}-1`,
        now: new Date(),
      }),
  });
}

test("a root rotates under a live mTLS connection: both roots trusted, leaves re-issued, old root dropped", async () => {
  const roots = await MeshRoots.load(stateDir, { now: new Date() });
  const ca = createCaService({ authority: () => roots.authority, tokenKeys: [cp.publicKey] });
  const server = proxy(ca, "foo", "httpbin");
  const client = proxy(ca, "bar", "curl");
  await server.start();
  await client.start();
  const oldRoot = roots.signingRoot;
  const s = await startMtlsServer(mtlsServerOptions(server));
  const unfollow = followRotations(s.server, server);
  const expected = ["spiffe://cluster.local/ns/foo/sa/httpbin"];
  const fresh = async () => (await connectAndEcho(s.port, mtlsClientOptions(client, expected))).ok;
  try {
    const live = await connectAndEcho(s.port, mtlsClientOptions(client, expected), true);
    assert.ok(live.ok && live.socket);
    const seen: Array<{ phase: string; bundle: number; live: boolean; fresh: boolean }> = [];
    const hooks = {
      // What a config push does in a proxy: take the trust, renew a leaf under another root.
      publish: async () => {
        const trust = { rootsPem: roots.trustBundlePem, signingRoot: roots.signingRoot };
        for (const p of [server, client]) p.applyTrust(trust);
        seen.push({
          phase: roots.phase,
          bundle: splitPemCertificates(roots.trustBundlePem).length,
          live: await echoOn(live.socket!, `during ${roots.phase}\n`),
          fresh: await fresh(),
        });
        return [];
      },
      leaves: async (): Promise<ProxyLeaf[]> =>
        [server, client].map((p, i) => ({
          node: `p${i}`,
          root: issuingRoot(p.current!.chainPem, p.current!.trustBundlePem),
        })),
      log: () => undefined,
      sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
    };
    const report = await rotateRoot(roots, hooks, { pollMs: 10, phaseTimeoutMs: 10_000 });
    assert.deepEqual(
      seen.map((x) => [x.phase, x.bundle, x.live, x.fresh]),
      [
        ["trust", 2, true, true],
        ["reissue", 2, true, true],
        ["none", 1, true, true],
      ],
    );
    assert.deepEqual(
      report.phases.map((p) => [p.phase, p.proxies]),
      [
        ["trust", 2],
        ["reissue", 2],
        ["drop", 2],
      ],
    );
    assert.equal(report.oldRoot, oldRoot);
    assert.notEqual(report.newRoot, oldRoot);
    assert.equal(roots.signingRoot, report.newRoot);
    for (const p of [server, client]) {
      assert.equal(issuingRoot(p.current!.chainPem, p.current!.trustBundlePem), report.newRoot);
      assert.equal(splitPemCertificates(p.current!.trustBundlePem).length, 1, "the old root is gone");
    }
    assert.ok(await echoOn(live.socket!, "after\n"), "the connection opened before the rotation survives");
    assert.ok(await fresh(), "new handshakes work under the new root");
    live.socket!.destroy();
    // After a restart the daemon signs with the new root, with no rotation in progress.
    const reloaded = await MeshRoots.load(stateDir, { now: new Date() });
    assert.equal(reloaded.phase, "none");
    assert.equal(reloaded.signingRoot, report.newRoot);
  } finally {
    unfollow();
    server.stop();
    client.stop();
    s.server.close();
    for (const sock of s.sockets) sock.destroy();
  }
});

test("a proxy that does not renew stops the rotation in phase 2 with a clear message; running it again continues", async () => {
  const dir = await mkdtemp(join(tmpdir(), "shoal-rotation-stuck-"));
  try {
    const roots = await MeshRoots.load(dir, { now: new Date() });
    const old = roots.signingRoot;
    let follow = false;
    const hooks = {
      publish: async () => [],
      leaves: async () => [{ node: "sidecar~10.244.0.5~stuck.foo", root: follow ? roots.signingRoot : old }],
      log: () => undefined,
      sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
    };
    await assert.rejects(rotateRoot(roots, hooks, { pollMs: 5, phaseTimeoutMs: 50 }), (e) => {
      assert.ok(isShoalError(e, "CA_ROTATION_TIMEOUT"), String(e));
      assert.match(e.message, /phase 2: 1 proxy still serve a leaf that is not under the new root/);
      assert.match(e.message, /sidecar~10\.244\.0\.5~stuck\.foo/);
      assert.match(e.message, /stays in phase "reissue" \(run it again to continue\)/);
      return true;
    });
    // The daemon restarts: the persisted phase is where it stopped, both roots still trusted.
    const again = await MeshRoots.load(dir, { now: new Date() });
    assert.equal(again.phase, "reissue");
    assert.equal(splitPemCertificates(again.trustBundlePem).length, 2);
    assert.equal((await stat(join(dir, "ca", "next-root-key.pem"))).mode & 0o777, 0o600);
    follow = true;
    const report = await rotateRoot(again, {
      ...hooks,
      leaves: async () => [{ node: "n", root: again.signingRoot }],
    });
    assert.equal(report.oldRoot, old);
    assert.deepEqual(
      report.phases.map((p) => p.phase),
      ["reissue", "drop"],
    );
    assert.equal(again.phase, "none");
    assert.equal(splitPemCertificates(again.trustBundlePem).length, 1);
    assert.equal((await stat(join(dir, "ca", "root-key.pem"))).mode & 0o777, 0o600);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("phase 1 waits for every proxy to take the two-root bundle before the new root signs", async () => {
  const dir = await mkdtemp(join(tmpdir(), "shoal-rotation-nack-"));
  try {
    const roots = await MeshRoots.load(dir, { now: new Date() });
    const old = roots.signingRoot;
    const hooks = { publish: async () => ["sidecar~a"], leaves: async () => [], log: () => undefined };
    await assert.rejects(
      rotateRoot(roots, hooks, { phaseTimeoutMs: 10 }),
      /phase 1: 1 proxy did not take the two-root trust bundle.*sidecar~a/,
    );
    assert.equal(roots.phase, "trust");
    assert.equal(roots.signingRoot, old, "the old root still signs");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
