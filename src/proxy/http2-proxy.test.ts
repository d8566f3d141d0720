// HTTP/2 through a client/server sidecar pair on loopback: an h2c application behind an http2 inbound
// chain, an http2 outbound listener in front of the client; per-stream authorization on one session,
// trailers (a unary gRPC call in raw frames), the access log, metrics, session reuse and connect failures.
import assert from "node:assert/strict";
import { once } from "node:events";
import http2 from "node:http2";
import type { ClientHttp2Session, IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http2";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { testRoot } from "../ca/test-support.js";
import {
  eventually,
  inboundChain,
  startTestProxy,
  testConfig,
  testWorkload,
} from "../testing/proxy-harness.js";
import type { ProxyConfig } from "./proxy-config.js";

const mesh = await testRoot();
const server = await testWorkload(mesh, "default", "greeter");
const caller = await testWorkload(mesh, "default", "caller");

/** An h2c application: `/grpc` answers a unary gRPC call (echo), anything else what it saw, as JSON. */
const seen: IncomingHttpHeaders[] = [];
let appSessions = 0;
const app = http2.createServer();
app.on("session", () => appSessions++);
/** Streams the app left unanswered (`/hang*`), to see them cancelled. */
const hanging: http2.ServerHttp2Stream[] = [];
app.on("stream", (stream, headers) => {
  seen.push(headers);
  const path = String(headers[":path"]);
  if (path.startsWith("/hang")) return void hanging.push(stream);
  if (path === "/stream") {
    // Echoes as it reads: neither side may buffer the whole body.
    stream.respond({ ":status": 200, "content-type": "application/octet-stream" });
    return void stream.pipe(stream);
  }
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  stream.on("end", () => {
    const body = Buffer.concat(chunks);
    if (headers[":path"] === "/grpc") {
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0", "grpc-message": "OK" }));
      return stream.end(grpcFrame(Buffer.from(`hello ${grpcMessage(body)}`)));
    }
    stream.respond({ ":status": 200, "content-type": "application/json" });
    stream.end(JSON.stringify({ path: headers[":path"], body: body.toString() }));
  });
});
app.listen(0, "127.0.0.1");
await once(app, "listening");
const appPort = (app.address() as AddressInfo).port;
after(() => app.close());

/** gRPC's length-prefixed message: flag byte 0 (uncompressed), 4-byte big-endian length, payload. */
function grpcFrame(payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}
function grpcMessage(frame: Buffer): string {
  return frame.subarray(5, 5 + frame.readUInt32BE(1)).toString();
}

const denyAdmin = {
  apiVersion: "security.istio.io/v1",
  kind: "AuthorizationPolicy",
  metadata: { name: "deny-admin", namespace: "default" },
  spec: { action: "DENY", rules: [{ to: [{ operation: { paths: ["/admin*"] } }] }] },
};

function serverConfig(policies: unknown[], version: string): ProxyConfig {
  const c = testConfig({
    version,
    namespace: "default",
    chains: [inboundChain(appPort, "PERMISSIVE", "http2")],
    policies,
  });
  return { ...c, node: { ...c.node, workloadName: "greeter", serviceAccount: "greeter" } };
}
const serverProxy = await startTestProxy(serverConfig([denyAdmin], "v1"), server.identity);
serverProxy.dst.current = { address: "127.0.0.1", port: appPort, family: "IPv4" };
after(() => serverProxy.proxy.close());

const VIP = "10.96.0.40";
const CLUSTER = "outbound|9090||greeter.default.svc.cluster.local";
const clientProxy = await startTestProxy(
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
            name: "greeter.default.svc.cluster.local:9090",
            domains: ["greeter", "greeter:9090", "greeter.default.svc.cluster.local"],
            routes: [
              {
                name: "slow",
                matches: [{ uri: { prefix: "/hang/timeout" } }],
                clusters: [{ cluster: CLUSTER }],
                timeoutMs: 200,
              },
              { name: "default", clusters: [{ cluster: CLUSTER }] },
            ],
          },
        ],
      },
    ],
    clusters: [
      {
        name: CLUSTER,
        type: "EDS",
        service: { host: "greeter.default.svc.cluster.local", namespace: "default", port: 9090 },
        endpoints: [
          {
            address: "127.0.0.1",
            port: serverProxy.proxy.ports.inbound,
            tls: { mode: "ISTIO_MUTUAL", subjectAltNames: [server.spiffeId] },
          },
        ],
      },
    ],
  }),
  caller.identity,
);
clientProxy.dst.current = { address: VIP, port: 9090, family: "IPv4" };
after(() => clientProxy.proxy.close());

interface H2Result {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  trailers: IncomingHttpHeaders | undefined;
}

function call(session: ClientHttp2Session, headers: OutgoingHttpHeaders, body?: Buffer): Promise<H2Result> {
  return new Promise((resolve, reject) => {
    const s = session.request({ ":authority": "greeter:9090", ...headers }, { endStream: !body });
    const chunks: Buffer[] = [];
    let head: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders | undefined;
    s.on("response", (h) => (head = h));
    s.on("trailers", (t) => (trailers = t));
    s.on("data", (c: Buffer) => chunks.push(c));
    s.on("error", reject);
    s.on("end", () =>
      resolve({ status: Number(head[":status"]), headers: head, body: Buffer.concat(chunks), trailers }),
    );
    if (body) s.end(body);
  });
}

function connect(port: number): ClientHttp2Session {
  const s = http2.connect(`http://127.0.0.1:${port}`);
  s.on("error", () => undefined);
  after(() => s.close());
  return s;
}

const out = connect(clientProxy.proxy.ports.outbound);

test("h2c through the pair reaches the h2c app: 200 with its body, proxy-owned headers set", async () => {
  const res = await call(out, { ":path": "/hello?x=1" });
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(res.body.toString()), { path: "/hello?x=1", body: "" });
  assert.match(String(res.headers["x-envoy-upstream-service-time"]), /^\d+$/);
  assert.equal(res.headers["x-envoy-peer-metadata"], undefined);
  const h = seen.at(-1) ?? {};
  assert.equal(h[":authority"], "greeter:9090");
  assert.match(
    String(h["x-forwarded-client-cert"]),
    /;URI=spiffe:\/\/cluster\.local\/ns\/default\/sa\/caller$/,
  );
  assert.equal(h["x-envoy-peer-metadata"], undefined, "metadata never reaches the application");
  // A request body streams through too.
  const post = await call(out, { ":method": "POST", ":path": "/echo" }, Buffer.from("payload"));
  assert.equal(JSON.parse(post.body.toString()).body, "payload");
});

test("DENY on a path: that stream gets 403 RBAC, a concurrent stream on the same session succeeds", async () => {
  const before = seen.length;
  const [denied, ok] = await Promise.all([call(out, { ":path": "/admin/x" }), call(out, { ":path": "/ok" })]);
  assert.equal(denied.status, 403);
  assert.equal(denied.body.toString(), "RBAC: access denied");
  assert.equal(denied.headers["content-type"], "text/plain");
  assert.equal(ok.status, 200);
  assert.equal(seen.length, before + 1, "only the allowed stream reached the app");
  assert.equal(seen.at(-1)?.[":path"], "/ok");
  // Dot segments are normalized before the policy judges them.
  assert.equal((await call(out, { ":path": "/ok/../admin" })).status, 403);
});

test("gRPC unary call: the message and the grpc-status trailer arrive at the client", async () => {
  const res = await call(
    out,
    { ":method": "POST", ":path": "/grpc", "content-type": "application/grpc", te: "trailers" },
    grpcFrame(Buffer.from("world")),
  );
  assert.equal(res.status, 200);
  assert.equal(res.headers["content-type"], "application/grpc");
  assert.equal(grpcMessage(res.body), "hello world");
  assert.equal(res.trailers?.["grpc-status"], "0");
  assert.equal(res.trailers?.["grpc-message"], "OK");
  assert.equal(seen.at(-1)?.te, "trailers", "te: trailers reaches a gRPC server");
});

test("access log: one line per stream with protocol HTTP/2, on both sides", async () => {
  clientProxy.lines.length = 0;
  serverProxy.lines.length = 0;
  await call(out, { ":path": "/logged", "x-request-id": "rid-h2" });
  await call(out, { ":path": "/admin", "x-request-id": "rid-h2-denied" });
  await eventually("lines", () => clientProxy.lines.length === 2 && serverProxy.lines.length === 2);
  assert.match(
    serverProxy.lines[0] ?? "",
    /"GET \/logged HTTP\/2" 200 - via_upstream .* "rid-h2" "greeter:9090" /,
  );
  assert.match(
    serverProxy.lines[1] ?? "",
    /"GET \/admin HTTP\/2" 403 - rbac_access_denied_matched_policy\[ns\[default\]-policy\[deny-admin\]-rule\[0\]\] /,
  );
  assert.match(
    clientProxy.lines[0] ?? "",
    /"GET \/logged HTTP\/2" 200 - via_upstream .* outbound\|9090\|\|greeter/,
  );
  assert.match(clientProxy.lines[1] ?? "", /"GET \/admin HTTP\/2" 403 - via_upstream /);
});

test("sessions are reused: many streams, one sidecar-to-sidecar connection and one app session", async () => {
  const opened = () => serverProxy.proxy.stats.snapshot()[`inbound|${appPort}||`]?.opened ?? 0;
  const before = { opened: opened(), app: appSessions };
  await Promise.all(Array.from({ length: 10 }, (_, i) => call(out, { ":path": `/many/${i}` })));
  assert.equal(opened(), before.opened);
  assert.equal(appSessions, before.app);
  assert.ok(appSessions <= 1, `app sessions: ${appSessions}`);
});

test("metrics: request_protocol grpc for the gRPC call, mutual_tls on the destination side", async () => {
  const text = await (
    await fetch(`http://127.0.0.1:${serverProxy.proxy.ports.prometheus}/stats/prometheus`)
  ).text();
  assert.match(
    text,
    /istio_requests_total\{reporter="destination",.*source_principal="spiffe:\/\/cluster\.local\/ns\/default\/sa\/caller",.*request_protocol="grpc",response_code="200",response_flags="-",connection_security_policy="mutual_tls"\} 1/,
  );
  assert.match(
    text,
    /request_protocol="http",response_code="403",response_flags="-",connection_security_policy="mutual_tls"/,
  );
  const own = await (
    await fetch(`http://127.0.0.1:${clientProxy.proxy.ports.prometheus}/stats/prometheus`)
  ).text();
  assert.match(
    own,
    /istio_requests_total\{reporter="source",.*destination_principal="spiffe:\/\/cluster\.local\/ns\/default\/sa\/greeter",.*destination_service="greeter\.default\.svc\.cluster\.local",.*request_protocol="grpc",response_code="200",response_flags="-",connection_security_policy="unknown"\} 1/,
  );
});

test("server sidecar directly: plaintext h2c with prior knowledge, per-stream policy too", async () => {
  const direct = connect(serverProxy.proxy.ports.inbound);
  const res = await call(direct, { ":path": "/plain" });
  assert.equal(res.status, 200);
  assert.equal(seen.at(-1)?.["x-forwarded-client-cert"], undefined, "no certificate, no XFCC");
  assert.equal(seen.at(-1)?.["x-forwarded-proto"], "http");
  assert.equal((await call(direct, { ":path": "/admin" })).status, 403);
});

test("bodies stream both ways: 4 MiB echoed through the pair intact", async () => {
  const body = Buffer.alloc(4 * 1024 * 1024);
  for (let i = 0; i < body.length; i += 4) body.writeUInt32BE(i, i);
  const res = await call(out, { ":method": "POST", ":path": "/stream" }, body);
  assert.equal(res.status, 200);
  assert.equal(res.body.length, body.length);
  assert.ok(res.body.equals(body));
});

test("a route timeout answers 504 UT and cancels the upstream stream", async () => {
  const before = hanging.length;
  const res = await call(out, { ":path": "/hang/timeout" });
  assert.equal(res.status, 504);
  assert.equal(res.body.toString(), "upstream request timeout");
  const stream = hanging[before];
  assert.ok(stream);
  await eventually("app stream cancelled", () => stream.closed);
});

test("a client that resets its stream cancels it at the app; the session goes on", async () => {
  const before = hanging.length;
  const s = out.request({ ":authority": "greeter:9090", ":path": "/hang/reset" });
  s.on("error", () => undefined);
  await eventually("stream at the app", () => hanging.length > before);
  s.close(http2.constants.NGHTTP2_CANCEL);
  const appStream = hanging[before];
  await eventually("app stream cancelled", () => appStream?.closed === true);
  assert.equal(appStream?.rstCode, http2.constants.NGHTTP2_CANCEL);
  assert.equal((await call(out, { ":path": "/after-reset" })).status, 200);
});

test("outbound connect failure: 503 UF on the stream, the session stays usable", async () => {
  const dead = http2.createServer();
  dead.listen(0, "127.0.0.1");
  await once(dead, "listening");
  const port = (dead.address() as AddressInfo).port;
  dead.close();
  const failing = await startTestProxy(
    testConfig({
      listeners: [
        {
          name: "0.0.0.0_9191",
          address: "0.0.0.0",
          port: 9191,
          protocol: "http2",
          virtualHosts: [
            { name: "x", domains: ["*"], routes: [{ name: "r", clusters: [{ cluster: "dead" }] }] },
          ],
        },
      ],
      clusters: [{ name: "dead", type: "EDS", endpoints: [{ address: "127.0.0.1", port }] }],
    }),
    caller.identity,
  );
  after(() => failing.proxy.close());
  failing.dst.current = { address: "10.96.0.41", port: 9191, family: "IPv4" };
  const s = connect(failing.proxy.ports.outbound);
  const a = await call(s, { ":path": "/" });
  assert.equal(a.status, 503);
  assert.equal((await call(s, { ":path": "/again" })).status, 503);
  await eventually("log", () => failing.lines.length === 2);
  assert.match(
    failing.lines[0] ?? "",
    /"GET \/ HTTP\/2" 503 UF upstream_reset_before_response_started\{connection_failure\} /,
  );
});
