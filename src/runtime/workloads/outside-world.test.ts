import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { TEAPOT } from "./httpbin-status.js";
import { silentLogger } from "./log.js";
import { hostName, parseOutsideWorldArgs, startOutsideWorld } from "./outside-world.js";
import type { Running } from "./server.js";
import { createTestPki, type TestPki } from "./test-certs.js";
import { request } from "./test-client.js";

test("arguments: ports, PEM paths and extra sites", () => {
  const options = parseOutsideWorldArgs([
    "--http-port",
    "8080",
    "--https-port=8443",
    "--cert",
    "c.pem",
    "--key",
    "k.pem",
    "--chain",
    "chain.pem",
    "--site",
    "edition.cnn.com=example",
  ]);
  assert.equal(options.httpPort, 8080);
  assert.equal(options.httpsPort, 8443);
  assert.equal(options.certFile, "c.pem");
  assert.equal(options.chainFile, "chain.pem");
  assert.equal(options.sites.get("example.com"), "example");
  assert.equal(options.sites.get("httpbin.org"), "httpbin");
  assert.equal(options.sites.get("edition.cnn.com"), "example");
  assert.deepEqual(
    [
      parseOutsideWorldArgs(["--cert", "c", "--key", "k"]).httpPort,
      parseOutsideWorldArgs(["--cert", "c", "--key", "k"]).httpsPort,
    ],
    [80, 443],
  );
  assert.throws(() => parseOutsideWorldArgs(["--http-port", "80"]), /--cert and --key are required/);
  assert.throws(() => parseOutsideWorldArgs(["--cert", "c", "--key", "k", "--http-port", "x"]), /not a port/);
});

test("host names lose their port", () => {
  assert.equal(hostName("Example.com:8080"), "example.com");
  assert.equal(hostName("httpbin.org"), "httpbin.org");
  assert.equal(hostName("[::1]:80"), "[::1]");
});

describe("outside world over HTTP and HTTPS", () => {
  let dir: string;
  let pki: TestPki;
  let world: Running;
  let httpPort: number;
  let httpsPort: number;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "outside-world-"));
    pki = await createTestPki(["example.com", "httpbin.org"]);
    writeFileSync(join(dir, "cert.pem"), pki.leafPem);
    writeFileSync(join(dir, "key.pem"), pki.leafKeyPem);
    writeFileSync(join(dir, "chain.pem"), pki.intermediatePem);
    const options = parseOutsideWorldArgs([
      "--http-port=0",
      "--https-port=0",
      `--cert=${join(dir, "cert.pem")}`,
      `--key=${join(dir, "key.pem")}`,
      `--chain=${join(dir, "chain.pem")}`,
    ]);
    world = await startOutsideWorld(options, silentLogger, "127.0.0.1");
    [httpPort, httpsPort] = world.ports as [number, number];
  });
  after(async () => {
    await world.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("http://example.com is the Example Domain page", async () => {
    const answer = await request({ port: httpPort, path: "/", headers: { host: "example.com" } });
    assert.equal(answer.status, 200);
    assert.match(answer.body, /<title>Example Domain<\/title>/);
  });

  test("http://httpbin.org routes to httpbin: /status/418 is the teapot, /headers works", async () => {
    const teapot = await request({ port: httpPort, path: "/status/418", headers: { host: "httpbin.org" } });
    assert.equal(teapot.status, 418);
    assert.equal(teapot.body, TEAPOT);
    const headers = await request({ port: httpPort, path: "/headers", headers: { host: "httpbin.org" } });
    assert.deepEqual(JSON.parse(headers.body).headers.Host, ["httpbin.org"]);
  });

  test("https with SNI verifies against the root only: the chain file is sent after the leaf", async () => {
    const tls = { tls: true, port: httpsPort, ca: pki.rootPem };
    const example = await request({ ...tls, servername: "example.com", headers: { host: "example.com" } });
    assert.equal(example.status, 200);
    assert.match(example.body, /Example Domain/);
    const get = await request({
      ...tls,
      path: "/get",
      servername: "httpbin.org",
      headers: { host: "httpbin.org" },
    });
    assert.equal(get.status, 200);
    assert.equal(JSON.parse(get.body).url, "https://httpbin.org/get");
  });

  test("a host the outside world does not serve is 404", async () => {
    const answer = await request({ port: httpPort, path: "/", headers: { host: "nowhere.test" } });
    assert.equal(answer.status, 404);
  });
});

test("without the chain file a client that trusts only the root cannot verify the server", async () => {
  const dir = mkdtempSync(join(tmpdir(), "outside-world-"));
  const pki = await createTestPki(["example.com"]);
  writeFileSync(join(dir, "cert.pem"), pki.leafPem);
  writeFileSync(join(dir, "key.pem"), pki.leafKeyPem);
  const options = parseOutsideWorldArgs([
    "--http-port=0",
    "--https-port=0",
    `--cert=${join(dir, "cert.pem")}`,
    `--key=${join(dir, "key.pem")}`,
  ]);
  const world = await startOutsideWorld(options, silentLogger, "127.0.0.1");
  try {
    await assert.rejects(
      request({
        tls: true,
        port: world.ports[1]!,
        ca: pki.rootPem,
        servername: "example.com",
        headers: { host: "example.com" },
      }),
      /unable to (get local issuer|verify)/,
    );
  } finally {
    await world.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
