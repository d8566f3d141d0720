import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadOrCreateOutsidePki } from "./outside-pki.js";

test("the outside world's certificate verifies against the public root for every outside name", async () => {
  const dir = await mkdtemp(join(tmpdir(), "shoal-outside-pki-"));
  try {
    const files = await loadOrCreateOutsidePki(dir, ["example.com", "httpbin.org"]);
    const key = await readFile(files.serverKey, "utf8");
    const chain = await readFile(files.serverChain, "utf8");
    const root = await readFile(files.rootCert, "utf8");
    assert.equal((await stat(files.serverKey)).mode & 0o777, 0o600);
    const leaf = new X509Certificate(chain);
    assert.equal(leaf.subjectAltName, "DNS:example.com, DNS:httpbin.org");
    assert.ok(leaf.verify(new X509Certificate(root).publicKey));

    const server = https.createServer({ key, cert: chain }, (_req, res) => res.end("ok"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const { port } = server.address() as AddressInfo;
      for (const servername of ["example.com", "httpbin.org"]) {
        const body = await new Promise<string>((resolve, reject) => {
          https
            .get(
              { host: "127.0.0.1", port, servername, headers: { host: servername }, ca: root, agent: false },
              (res) => {
                let b = "";
                res.on("data", (c) => (b += c));
                res.on("end", () => resolve(b));
              },
            )
            .on("error", reject);
        });
        assert.equal(body, "ok", servername);
      }
      // A client that trusts only the system roots refuses it: the root is ours alone.
      await assert.rejects(
        new Promise((resolve, reject) =>
          https
            .get({ host: "127.0.0.1", port, servername: "example.com", agent: false }, resolve)
            .on("error", reject),
        ),
      );
    } finally {
      server.close();
    }
    // A second start keeps the same PKI.
    await loadOrCreateOutsidePki(dir, ["example.com", "httpbin.org"]);
    assert.equal(await readFile(files.rootCert, "utf8"), root);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
