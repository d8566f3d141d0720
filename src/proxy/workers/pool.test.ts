// A gateway with two worker processes on loopback: the config reaches every worker before a push is
// done, a request is counted once in the primary's sum whichever worker served it, a refused config
// changes nothing, and a killed worker is replaced with the current config.
import assert from "node:assert/strict";
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { testIdentity, testRoot } from "../../ca/test-support.js";
import { eventually } from "../../testing/proxy-harness.js";
import { adminServer } from "../admin.js";
import type { ProxyConfig } from "../proxy-config.js";
import type { IdentityPem } from "./messages.js";
import { GatewayWorkers } from "./pool.js";
import { gatewayConfig, getExample } from "./test-support.js";

const MAIN = fileURLToPath(new URL("../main.js", import.meta.url));

async function adminGet(port: number, path: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return res.text();
}

describe("a gateway with two workers", () => {
  let app: http.Server;
  let appPort = 0;
  let identity: IdentityPem;
  let pool: GatewayWorkers;
  let admin: http.Server;
  let adminPort = 0;
  let port = 0;
  const events: string[] = [];

  before(async () => {
    app = http.createServer((_req, res) => res.end("ok"));
    app.listen(0, "127.0.0.1");
    await once(app, "listening");
    appPort = (app.address() as AddressInfo).port;
    const ca = await testRoot();
    const pem = await testIdentity(ca, "istio-system", "istio-ingressgateway-service-account");
    identity = { keyPem: pem.key, chainPem: pem.cert, rootsPem: pem.ca, trustDomain: ca.trustDomain };
    pool = new GatewayWorkers({
      count: 2,
      settings: { host: "127.0.0.1", otherPorts: 0, accessLog: false },
      exec: MAIN,
      args: [],
      event: (name) => events.push(name),
    });
    await pool.start(gatewayConfig("v1", appPort, true), identity);
    port = pool.gatewayPorts().get(8080) ?? 0;
    admin = adminServer({
      config: () => pool.config,
      stats: () => pool.stats(),
      ready: () => pool.ready(),
      certificates: () => [],
    });
    admin.listen(0, "127.0.0.1");
    await once(admin, "listening");
    adminPort = (admin.address() as AddressInfo).port;
  });

  after(async () => {
    await pool?.close();
    admin?.close();
    app?.close();
  });

  it("starts every worker with the config, listening on one shared port", async () => {
    assert.notEqual(port, 0);
    const ws = pool.workers();
    assert.equal(ws.length, 2);
    assert.equal(new Set(ws.map((w) => w.pid)).size, 2);
    assert.ok(!ws.map((w) => w.pid).includes(process.pid));
    assert.deepEqual(
      ws.map((w) => [w.version, w.ports]),
      [
        ["v1", [[8080, port]]],
        ["v1", [[8080, port]]],
      ],
    );
    assert.equal(pool.ready(), true);
    assert.equal(await adminGet(adminPort, "/ready"), "LIVE\n");
  });

  it("counts each request once in the sum over workers", async () => {
    const before = JSON.parse(await adminGet(adminPort, "/stats?format=json")) as {
      counters: Record<string, { opened: number }>;
    };
    const n = 30;
    const codes = await Promise.all(Array.from({ length: n }, () => getExample(port)));
    assert.deepEqual(new Set(codes), new Set([200]));
    const after = JSON.parse(await adminGet(adminPort, "/stats?format=json")) as typeof before;
    const opened = (s: typeof before) => s.counters["0.0.0.0_8080"]?.opened ?? 0;
    assert.equal(opened(after) - opened(before), n);
    // The sum is the parts': each worker's own count adds up to the total.
    const parts = await pool.workerStats();
    assert.equal(
      parts.reduce((a, s) => a + (s.counters["0.0.0.0_8080"]?.opened ?? 0), 0),
      opened(after),
    );
    const prom = await adminGet(adminPort, "/stats/prometheus");
    const total = [...prom.matchAll(/^istio_requests_total\{[^}]*response_code="200"[^}]*\} (\d+)$/gm)]
      .map((m) => Number(m[1]))
      .reduce((a, b) => a + b, 0);
    assert.equal(total, opened(after));
  });

  it("applies a config update on every worker before the push completes", async () => {
    await pool.pushConfig(gatewayConfig("v2", appPort, false));
    assert.deepEqual(
      pool.workers().map((w) => w.version),
      ["v2", "v2"],
    );
    const codes = await Promise.all(Array.from({ length: 10 }, () => getExample(port)));
    assert.deepEqual(new Set(codes), new Set([404]));
  });

  it("fails a push every worker refuses, and the workers keep the config they run", async () => {
    const bad = { ...gatewayConfig("v3", appPort, true), clusters: "not a list" } as unknown as ProxyConfig;
    await assert.rejects(pool.pushConfig(bad), /refused the config/);
    assert.equal(pool.config?.version, "v2");
    assert.deepEqual(
      pool.workers().map((w) => w.version),
      ["v2", "v2"],
    );
  });

  it("replaces a killed worker, which starts with the current config; counters never go backwards", async () => {
    const sumBefore = (await pool.stats()).snapshot()["0.0.0.0_8080"]?.opened ?? 0;
    const [victim, survivor] = pool.workers().map((w) => w.pid);
    process.kill(victim!, "SIGKILL");
    await eventually(
      "a replacement worker",
      () => pool.workers().length === 2 && !pool.workers().some((w) => w.pid === victim) && pool.ready(),
      10_000,
    );
    const ws = pool.workers();
    assert.ok(ws.some((w) => w.pid === survivor));
    assert.deepEqual(
      ws.map((w) => w.version),
      ["v2", "v2"],
    );
    assert.ok(events.includes("gateway_worker_exited"));
    const sumAfter = (await pool.stats()).snapshot()["0.0.0.0_8080"]?.opened ?? 0;
    assert.ok(sumAfter >= sumBefore, `${sumAfter} >= ${sumBefore}`);
    const codes = await Promise.all(Array.from({ length: 10 }, () => getExample(port)));
    assert.deepEqual(new Set(codes), new Set([404]));
  });
});
