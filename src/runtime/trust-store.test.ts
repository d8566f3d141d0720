import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { nodeNetnsName, outsideNetnsName, podNetnsName } from "./names.js";
import { createOutsidePki } from "./outside-pki.js";
import { clusterIdOfNetns, renderTrustBundle, trustEnv, trustFiles, trustPrelude } from "./trust-store.js";
import { writeTrustStore } from "./trust-store-write.js";

test("the cluster id is read back from every namespace name the cluster creates", () => {
  for (const id of ["default", "e2e-abc-1", "x"]) {
    assert.equal(clusterIdOfNetns(podNetnsName(id, "foo", "curl-1")), id);
    assert.equal(clusterIdOfNetns(nodeNetnsName(id)), id);
    assert.equal(clusterIdOfNetns(outsideNetnsName(id)), id);
  }
  assert.equal(clusterIdOfNetns("other-netns"), undefined);
});

test("the bundle is the host's CAs, then the public root; the env names it for each tool", () => {
  assert.equal(renderTrustBundle("HOST\n", "ROOT\n"), "HOST\n# Shoal simulated public web root\nROOT\n");
  assert.equal(renderTrustBundle(undefined, "ROOT"), "# Shoal simulated public web root\nROOT\n");
  const files = trustFiles("c1");
  assert.match(files.bundle, /\/c1\/trust\/ca-certificates\.crt$/);
  const env = trustEnv(files);
  assert.equal(env["SSL_CERT_FILE"], files.bundle);
  assert.equal(env["CURL_CA_BUNDLE"], files.bundle);
  assert.equal(env["NODE_EXTRA_CA_CERTS"], files.extraRoots);
});

test("the prelude sets the trust variables unless the command's env already does, then execs", () => {
  const prelude = trustPrelude({ SSL_CERT_FILE: "/t/bundle", NODE_EXTRA_CA_CERTS: "/t/roots" });
  const run = (env: Record<string, string>) =>
    spawnSync(
      prelude[0]!,
      [...prelude.slice(1), "sh", "-c", 'printf %s "$SSL_CERT_FILE|$NODE_EXTRA_CA_CERTS|$0"'],
      {
        env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", ...env },
        encoding: "utf8",
      },
    ).stdout;
  assert.equal(run({}), "/t/bundle|/t/roots|sh");
  assert.equal(run({ SSL_CERT_FILE: "/mine.pem" }), "/mine.pem|/t/roots|sh");
});

test("writeTrustStore writes both files world-readable, with or without a host bundle", async () => {
  const dir = await mkdtemp(join(tmpdir(), "trust-"));
  try {
    await writeFile(join(dir, "root.pem"), "ROOT\n");
    await writeFile(join(dir, "host.crt"), "HOST\n");
    const files = { bundle: join(dir, "t", "ca.crt"), extraRoots: join(dir, "t", "roots.pem") };
    await writeTrustStore(join(dir, "root.pem"), files, [join(dir, "missing"), join(dir, "host.crt")]);
    assert.equal(await readFile(files.bundle, "utf8"), "HOST\n# Shoal simulated public web root\nROOT\n");
    assert.equal(await readFile(files.extraRoots, "utf8"), "ROOT\n");
    await writeTrustStore(join(dir, "root.pem"), files, []);
    assert.equal(await readFile(files.bundle, "utf8"), "# Shoal simulated public web root\nROOT\n");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

/** Runs a command with `env` and resolves to its exit code and output (async: the server is in this process). */
function run(
  file: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", ...env } });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    child.on("close", (code) => resolve({ code, out }));
  });
}

describe("tools trust the outside world's certificate through the trust store alone", () => {
  let dir: string;
  let server: https.Server;
  let port: number;
  let files: { bundle: string; extraRoots: string };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "trust-tls-"));
    const pki = await createOutsidePki(["httpbin.org", "www.httpbin.org"], new Date());
    await writeFile(join(dir, "root.pem"), pki.rootPem);
    files = { bundle: join(dir, "ca-certificates.crt"), extraRoots: join(dir, "public-roots.pem") };
    await writeTrustStore(join(dir, "root.pem"), files);
    server = https.createServer({ cert: pki.chainPem, key: pki.keyPem }, (_req, res) => res.end("ok"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  test("a Node process (the proxy) verifies it with NODE_EXTRA_CA_CERTS and no CA option", async () => {
    const script =
      `require("https").get({host:"127.0.0.1",port:${port},servername:"httpbin.org",headers:{host:"httpbin.org"}},` +
      `(r)=>{r.resume();console.log("status",r.statusCode)}).on("error",(e)=>{console.log("error",e.code);process.exitCode=3})`;
    const trusted = await run(process.execPath, ["-e", script], { NODE_EXTRA_CA_CERTS: files.extraRoots });
    assert.match(trusted.out, /status 200/);
    const untrusted = await run(process.execPath, ["-e", script], {});
    assert.match(untrusted.out, /error UNABLE_TO_GET_ISSUER_CERT_LOCALLY|error SELF_SIGNED_CERT_IN_CHAIN/);
  });

  const hasCurl = spawnSync("sh", ["-c", "command -v curl"]).status === 0;
  // As root (CI) curl is one of the installed tools: missing, the test fails instead of skipping.
  const skipCurl = !hasCurl && process.getuid?.() !== 0 ? "curl is not installed" : false;
  test("curl verifies it with the trust env and no --cacert / -k", { skip: skipCurl }, async () => {
    const args = [
      "-sS",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "--resolve",
      `httpbin.org:${port}:127.0.0.1`,
      `https://httpbin.org:${port}/`,
    ];
    const trusted = await run("curl", args, trustEnv(files));
    assert.deepEqual([trusted.code, trusted.out], [0, "200"]);
    const untrusted = await run("curl", args, {});
    assert.equal(untrusted.code, 60, untrusted.out);
  });
});
