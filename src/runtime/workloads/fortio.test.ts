import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, test } from "node:test";

import { fortioEchoHandler, fortioLoad, parseDuration, parseFlags } from "./fortio.js";
import { callsPerThread, runLoad, type LoadResult } from "./fortio-load.js";
import { codeCounts, percentile, summaryLines } from "./fortio-report.js";
import { startHttpServer } from "./http-util.js";
import { silentLogger } from "./log.js";
import { closeServer, listen } from "./server.js";
import { request } from "./test-client.js";

test("Go-style flags: -c 2, -qps=0, --n 20, repeated -H, booleans", () => {
  const parsed = parseFlags([
    "-c",
    "2",
    "-qps=0",
    "--n",
    "20",
    "-H",
    "a: 1",
    "-H",
    "b: 2",
    "-k",
    "http://h/get",
  ]);
  assert.deepEqual(parsed.flags.get("c"), ["2"]);
  assert.deepEqual(parsed.flags.get("qps"), ["0"]);
  assert.deepEqual(parsed.flags.get("n"), ["20"]);
  assert.deepEqual(parsed.flags.get("H"), ["a: 1", "b: 2"]);
  assert.deepEqual(parsed.flags.get("k"), ["true"]);
  assert.deepEqual(parsed.positionals, ["http://h/get"]);
  assert.throws(() => parseFlags(["-c"]), /flag needs an argument: -c/);
});

test("durations: 5s, 1m30s, 250ms, bare seconds", () => {
  assert.equal(parseDuration("5s"), 5000);
  assert.equal(parseDuration("1m30s"), 90_000);
  assert.equal(parseDuration("250ms"), 250);
  assert.equal(parseDuration("2"), 2000);
  assert.throws(() => parseDuration("soon"), /not a duration/);
});

test("n calls are split over c threads, the first ones taking the remainder", () => {
  assert.deepEqual(callsPerThread(20, 2), [10, 10]);
  assert.deepEqual(callsPerThread(7, 3), [3, 2, 2]);
});

test("the summary counts each code with its percentage and the sockets used", () => {
  const call = (thread: number, code: number, seconds: number) => ({
    thread,
    code,
    seconds,
    headerBytes: 100,
    bodyBytes: 10,
  });
  const result: LoadResult = {
    calls: [
      call(0, 200, 0.001),
      call(0, 503, 0.002),
      call(1, 200, 0.003),
      call(1, 200, 0.004),
      call(1, -1, 0.01),
    ],
    threads: [
      { thread: 0, sockets: 2, addresses: ["10.96.0.9:8000", "10.96.0.9:8000"] },
      { thread: 1, sockets: 2, addresses: ["10.96.0.9:8000", "10.96.0.9:8000"] },
    ],
    elapsedSeconds: 0.5,
  };
  const lines = summaryLines({
    result,
    connections: 2,
    qps: 0,
    requests: 5,
    durationMs: 5000,
    url: "http://h/get",
  });
  assert.ok(lines.includes("Code -1 : 1 (20.0 %)"), lines.join("\n"));
  assert.ok(lines.includes("Code 200 : 3 (60.0 %)"));
  assert.ok(lines.includes("Code 503 : 1 (20.0 %)"));
  assert.ok(lines.includes("Sockets used: 4 (for perfect keepalive, would be 2)"));
  assert.ok(lines.includes("10.96.0.9:8000: 4"));
  assert.ok(lines.some((l) => l.startsWith("Ended after 500ms : 5 calls. qps=10")));
  assert.ok(lines.some((l) => l.startsWith("All done 5 calls (plus 0 warmup)")));
  assert.deepEqual([...codeCounts(result.calls).keys()], [-1, 200, 503]);
  assert.equal(percentile([1, 2, 3, 4, 5], 50), 3);
});

describe("fortio load against a loopback server", () => {
  let server: http.Server;
  let port: number;
  let served = 0;
  before(async () => {
    // Every third request is refused with 503, like a circuit breaker that has tripped.
    server = http.createServer({ keepAlive: true }, (_req, res) => {
      served++;
      if (served % 3 === 0)
        res.writeHead(503).end("upstream connect error or disconnect/reset before headers");
      else res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    });
    port = await listen(server, 0, "127.0.0.1");
  });
  after(() => closeServer(server));

  test("-n calls over -c keep-alive connections; each non-2xx costs a new connection", async () => {
    served = 0;
    const result = await runLoad({
      url: new URL(`http://127.0.0.1:${port}/get`),
      connections: 2,
      requests: 12,
      durationMs: 5000,
      qps: 0,
      headers: {},
      timeoutMs: 3000,
    });
    const counts = codeCounts(result.calls);
    assert.equal(result.calls.length, 12);
    assert.equal(counts.get(200), 8);
    assert.equal(counts.get(503), 4);
    const sockets = result.threads.reduce((sum, t) => sum + t.sockets, 0);
    // Two first connections, and a fresh one after each 503 except where a thread had no calls left.
    assert.ok(sockets >= 2 + 4 - 2 && sockets <= 2 + 4, `sockets ${sockets}`);
  });

  test("fortio load prints the lines Istio's task reads", async () => {
    served = 0;
    let text = "";
    const code = await fortioLoad(
      ["-c", "2", "-qps", "0", "-n", "6", "-loglevel", "Warning", `http://127.0.0.1:${port}/get`],
      { out: (t) => (text += t), err: (t) => (text += t) },
    );
    assert.equal(code, 0);
    assert.match(text, /^Code 200 : 4 \(66\.7 %\)$/m);
    assert.match(text, /^Code 503 : 2 \(33\.3 %\)$/m);
    assert.match(text, /^Sockets used: \d+ \(for perfect keepalive, would be 2\)$/m);
    assert.match(text, /for exactly 6 calls \(3 per thread \+ 0\)/);
  });

  test("a refused connection counts as code -1", async () => {
    const result = await runLoad({
      url: new URL("http://127.0.0.1:1/"),
      connections: 1,
      requests: 2,
      durationMs: 1000,
      qps: 0,
      headers: {},
      timeoutMs: 1000,
    });
    assert.deepEqual([...codeCounts(result.calls)], [[-1, 2]]);
  });
});

test("fortio server echoes the body and honours ?status=", async () => {
  const server = await startHttpServer(fortioEchoHandler(), 0, "127.0.0.1", silentLogger);
  try {
    const port = server.ports[0]!;
    const echoed = await request({ port, path: "/echo", method: "POST", body: "ping" });
    assert.deepEqual([echoed.status, echoed.body], [200, "ping"]);
    assert.equal((await request({ port, path: "/?status=418" })).status, 418);
  } finally {
    await server.close();
  }
});
