// Private keys stay where they belong: the root keys (current and next) and the token-signing key are
// 0600 in the state directory; a proxy's key lives only in its memory; no key material appears in the
// config pushed to proxies, in what the proxy reports (/certs), in the CA's logs or the proxy's events.
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { generateCsr } from "../../ca/csr.js";
import { mintBootstrapToken } from "../../ca/bootstrap-token.js";
import type { LiteChannel } from "../../proxy/grpc-lite.js";
import { describeCertificates } from "../../proxy/certificates.js";
import { xdsIdentity } from "../../proxy/xds-identity.js";
import { testConfig } from "../../testing/proxy-harness.js";
import { startMeshCa } from "./mesh-ca.js";
import { loadOrCreateTokenKey } from "./token-key.js";

const stateDir = await mkdtemp(join(tmpdir(), "shoal-keys-"));
after(() => rm(stateDir, { recursive: true, force: true }));
const KEY = /PRIVATE KEY/;

test("root, next-root and token keys are 0600; certificates are the only other files", async () => {
  const logs: string[] = [];
  const keys = await loadOrCreateTokenKey(stateDir);
  const ca = await startMeshCa({
    stateDir,
    now: new Date(),
    pods: () => ({ uid: "u1" }),
    tokenKeys: [keys.publicKey],
    proxies: () => [],
    certificates: async () => [],
    publish: async () => [],
    log: (event, fields) => logs.push(JSON.stringify({ event, ...fields })),
  });
  await ca.roots.advance(new Date()); // a rotation in progress: the next root's key is on disk too
  const dir = join(stateDir, "ca");
  const modes = Object.fromEntries(
    await Promise.all(
      (await readdir(dir)).map(
        async (f) => [f, ((await stat(join(dir, f))).mode & 0o777).toString(8)] as const,
      ),
    ),
  );
  assert.deepEqual(modes, {
    "next-root-cert.pem": "644",
    "next-root-key.pem": "600",
    "root-cert.pem": "644",
    "root-key.pem": "600",
    "rotation.json": "600",
    "token-signing-key.pem": "600",
  });
  assert.equal(((await stat(dir)).mode & 0o777).toString(8), "700");

  // A proxy gets its certificate: the key is made in the proxy and never sent; nothing logged carries one.
  const events: string[] = [];
  const token = mintBootstrapToken({
    signingKey: keys.privateKey,
    namespace: "foo",
    serviceAccount: "curl",
    pod: "curl-1",
    podUid: "u1",
    now: new Date(),
  });
  const sent: string[] = [];
  const channel = {
    unary: async (_path: string, request: { csrPem: string; token: string }) => {
      sent.push(JSON.stringify(request));
      const r = await ca.service.sign(request.csrPem, request.token);
      return { chainPem: r.chainPem, rootsPem: r.trustBundlePem };
    },
  } as unknown as LiteChannel;
  const identity = await xdsIdentity({
    channel,
    token: async () => token,
    log: (event, fields) => events.push(JSON.stringify({ event, ...fields })),
  });
  identity.client.applyTrust({ rootsPem: ca.roots.trustBundlePem, signingRoot: ca.roots.signingRoot });
  assert.match(identity.client.current!.keyPem, KEY, "the proxy holds its key");
  assert.equal(sent.length, 1);
  assert.doesNotMatch(sent[0]!, KEY, "only the CSR and the token go to the CA");
  const pushed = JSON.stringify(ca.withTrust(testConfig({})));
  assert.match(pushed, /BEGIN CERTIFICATE/, "the pushed config carries the roots");
  assert.doesNotMatch(pushed, KEY);
  const certs = JSON.stringify(describeCertificates(identity.chainPem!, identity.rootsPem, new Date()));
  assert.doesNotMatch(certs, KEY);
  assert.ok(logs.some((l) => l.includes("certificate issued")));
  for (const line of [...logs, ...events]) assert.doesNotMatch(line, KEY, line);
  identity.client.stop();
  // And a CSR is all a proxy ever sends: the CA never sees (or could echo) the key.
  assert.doesNotMatch((await generateCsr()).csrPem, KEY);
});
