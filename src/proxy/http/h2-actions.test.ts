// The same pipeline over HTTP/2 (h2c client → sidecar → h2c application): a direct response, a gRPC fault
// abort answered trailers-only with its grpc-status, retries with x-envoy-attempt-count, and a route
// timeout that cancels the upstream stream.
import assert from "node:assert/strict";
import { once } from "node:events";
import http2 from "node:http2";
import type { ClientHttp2Session, IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { testRoot } from "../../ca/test-support.js";
import type { LogFields } from "../../testing/http-harness.js";
import { parseHttpLine } from "../../testing/http-harness.js";
import { eventually, startTestProxy, testConfig, testWorkload } from "../../testing/proxy-harness.js";

const mesh = await testRoot();
const caller = await testWorkload(mesh, "default", "caller");

/** An h2c app: `…/status/NNN` answers NNN the first time per request id, then 200; `/hang` never. */
const seen: IncomingHttpHeaders[] = [];
const hanging: http2.ServerHttp2Stream[] = [];
const app = http2.createServer();
app.on("stream", (stream, headers) => {
  const first = !seen.some((h) => h["x-request-id"] === headers["x-request-id"]);
  seen.push(headers);
  const path = String(headers[":path"]);
  if (path.startsWith("/hang")) return void hanging.push(stream);
  const m = /\/status\/(\d{3})$/.exec(path);
  stream.respond({ ":status": m && first ? Number(m[1]) : 200, "content-type": "text/plain" });
  stream.end("from app");
});
app.listen(0, "127.0.0.1");
await once(app, "listening");
after(() => app.close());

const APP = "outbound|9090||greeter.default.svc.cluster.local";
const proxy = await startTestProxy(
  testConfig({
    namespace: "default",
    listeners: [
      {
        name: "0.0.0.0_9090",
        address: "0.0.0.0",
        port: 9090,
        protocol: "http2",
        virtualHosts: [
          {
            name: "greeter",
            domains: ["greeter:9090"],
            routes: [
              { name: "direct", matches: [{ uri: { exact: "/direct" } }], directResponse: { status: 204 } },
              {
                name: "grpc-fault",
                matches: [{ uri: { prefix: "/pkg.Greeter/" } }],
                fault: { abort: { grpcStatus: 14, percent: 100 } },
                clusters: [{ cluster: APP }],
              },
              {
                name: "retried",
                matches: [{ uri: { prefix: "/retry" } }],
                retries: { attempts: 1, retryOn: ["gateway-error"] },
                clusters: [{ cluster: APP }],
              },
              {
                name: "timed",
                matches: [{ uri: { prefix: "/hang" } }],
                timeoutMs: 100,
                clusters: [{ cluster: APP }],
              },
            ],
          },
        ],
      },
    ],
    clusters: [
      {
        name: APP,
        type: "EDS",
        endpoints: [{ address: "127.0.0.1", port: (app.address() as AddressInfo).port }],
      },
    ],
  }),
  caller.identity,
);
proxy.dst.current = { address: "10.96.0.40", port: 9090, family: "IPv4" };
after(() => proxy.proxy.close());

const session: ClientHttp2Session = http2.connect(`http://127.0.0.1:${proxy.proxy.ports.outbound}`);
session.on("error", () => undefined);
after(() => session.close());

let rid = 0;
async function call(headers: OutgoingHttpHeaders, body?: Buffer) {
  const id = `h2-${++rid}`;
  const res = await new Promise<{ head: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const s = session.request(
      { ":authority": "greeter:9090", "x-request-id": id, ...headers },
      { endStream: !body },
    );
    let head: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    s.on("response", (h) => (head = h));
    s.on("data", (c: Buffer) => chunks.push(c));
    s.on("error", reject);
    s.on("end", () => resolve({ head, body: Buffer.concat(chunks).toString() }));
    if (body) s.end(body);
  });
  let log: LogFields | undefined;
  await eventually(`log of ${id}`, () => {
    log = proxy.lines.map(parseHttpLine).find((l) => l?.requestId === id);
    return log !== undefined;
  });
  return { ...res, log: log as LogFields, id };
}

test("h2: a direct response answers on the stream; the session goes on", async () => {
  const r = await call({ ":path": "/direct" });
  assert.equal(r.head[":status"], 204);
  assert.deepEqual([r.log.code, r.log.details, r.log.route], [204, "direct_response", "direct"]);
});

test("h2: a gRPC fault abort is trailers-only: 200 with grpc-status 14 and the abort message", async () => {
  const before = seen.length;
  const r = await call(
    { ":method": "POST", ":path": "/pkg.Greeter/Hello", "content-type": "application/grpc", te: "trailers" },
    Buffer.from([0, 0, 0, 0, 0]),
  );
  assert.equal(r.head[":status"], 200);
  assert.equal(r.head["grpc-status"], "14");
  assert.equal(r.head["grpc-message"], "fault filter abort");
  assert.equal(seen.length, before);
  assert.deepEqual([r.log.flags, r.log.details, r.log.route], ["FI", "fault_filter_abort", "grpc-fault"]);
});

test("h2: gateway-error retries a 503 on a new stream with x-envoy-attempt-count 2", async () => {
  const r = await call({ ":path": "/retry/status/503" });
  assert.equal(r.head[":status"], 200);
  assert.equal(r.body, "from app");
  const tries = seen.filter((h) => h["x-request-id"] === r.id);
  assert.deepEqual(
    tries.map((h) => h["x-envoy-attempt-count"]),
    ["1", "2"],
  );
  assert.deepEqual([r.log.code, r.log.flags, r.log.cluster], [200, "-", APP]);
});

test("h2: a route timeout answers 504 UT and cancels the upstream stream", async () => {
  const before = hanging.length;
  const r = await call({ ":path": "/hang" });
  assert.equal(r.head[":status"], 504);
  assert.equal(r.body, "upstream request timeout");
  assert.deepEqual([r.log.flags, r.log.details], ["UT", "upstream_response_timeout"]);
  const stream = hanging[before];
  assert.ok(stream);
  await eventually("app stream cancelled", () => stream.closed);
});
