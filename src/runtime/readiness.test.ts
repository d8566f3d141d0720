// waitReady(): polls GET over a unix socket until 200, gives up at the gate's timeout, stops when cancelled.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { probeOnce, waitReady } from "./readiness.js";

async function withSocket(fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "shoal-ready-"));
  try {
    await fn(join(dir, "admin.sock"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("ready once the server answers 200 on the path (it may start listening late)", async () => {
  await withSocket(async (socketPath) => {
    let ready = false;
    const server = http.createServer((req, res) => {
      res.writeHead(req.url === "/ready" && ready ? 200 : 503).end();
    });
    assert.equal(await probeOnce(socketPath, "/ready"), false, "nothing listens yet");
    const waiting = waitReady({ socketPath, path: "/ready", timeoutMs: 5000 });
    setTimeout(() => server.listen(socketPath), 100);
    setTimeout(() => (ready = true), 250);
    assert.equal(await waiting, true);
    server.close();
    await once(server, "close");
  });
});

test("not ready after the timeout; a cancelled wait ends at once", async () => {
  await withSocket(async (socketPath) => {
    const t0 = Date.now();
    assert.equal(await waitReady({ socketPath, path: "/ready", timeoutMs: 200 }), false);
    assert.ok(Date.now() - t0 >= 150, "it waited for the timeout");
    assert.equal(await waitReady({ socketPath, path: "/ready", timeoutMs: 60_000 }, () => true), false);
  });
});
