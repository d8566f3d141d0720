// The admin endpoints: /ready before and after a config, /config_dump, /stats.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { testRoot } from "../ca/test-support.js";
import {
  exchange,
  inboundChain,
  startApp,
  startTestProxy,
  testConfig,
  testWorkload,
} from "../testing/proxy-harness.js";

test("admin: /ready is 503 until a config is loaded; /config_dump and /stats show the current state", async () => {
  const w = await testWorkload(await testRoot(), "foo", "app");
  const app = await startApp("echo");
  after(() => app.close());
  const tp = await startTestProxy(undefined, w.identity);
  after(() => tp.proxy.close());
  const get = (path: string) => fetch(`http://127.0.0.1:${tp.proxy.ports.admin}${path}`);
  assert.equal((await get("/ready")).status, 503);
  tp.proxy.updateConfig(testConfig({ version: "v7", chains: [inboundChain(app.port, "PERMISSIVE")] }));
  assert.equal((await get("/ready")).status, 200);
  const dump = (await (await get("/config_dump")).json()) as { version: string; config: { version: string } };
  assert.equal(dump.version, "v7");
  assert.equal(dump.config.version, "v7");
  tp.dst.current = { address: "127.0.0.1", port: app.port, family: "IPv4" };
  assert.equal((await exchange(tp.proxy.ports.inbound, "abc")).data, "abc");
  const name = `inbound|${app.port}||`;
  await new Promise((r) => setTimeout(r, 20));
  const text = await (await get("/stats")).text();
  assert.match(text, new RegExp(`${name.replace(/\|/g, "\\|")}\\.cx_opened: 1\\n`));
  const json = (await (await get("/stats?format=json")).json()) as {
    counters: Record<string, { closed: number; bytesReceived: number; bytesSent: number }>;
  };
  assert.deepEqual(
    { ...json.counters[name] },
    { opened: 1, closed: 1, denied: 0, failed: 0, bytesReceived: 3, bytesSent: 3 },
  );
  assert.equal((await get("/nope")).status, 404);
});
