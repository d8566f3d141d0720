// HTTP through a client/server sidecar pair on loopback (S3 of the scenarios): per-request authorization
// with every HTTP field, path normalization on the wire, proxy-owned headers, keep-alive with a policy
// swapped between two requests, REGISTRY_ONLY and ALLOW_ANY, the access log line and the metrics.
import assert from "node:assert/strict";
import http from "node:http";
import { after, test } from "node:test";
import type tls from "node:tls";
import { spiffeServerIdentityCheck } from "../ca/peer-identity.js";
import { testRoot } from "../ca/test-support.js";
import { denyAll, detailsViewer, request, startDetailsApp } from "../testing/http-harness.js";
import {
  eventually,
  inboundChain,
  startTestProxy,
  testConfig,
  testWorkload,
} from "../testing/proxy-harness.js";
import type { ProxyConfig } from "./proxy-config.js";

const mesh = await testRoot();
const details = await testWorkload(mesh, "default", "bookinfo-details");
const productpage = await testWorkload(mesh, "default", "bookinfo-productpage");
const app = await startDetailsApp();
after(() => app.close());

const VIP = "10.96.0.30";
const CLUSTER = "outbound|9080||details.default.svc.cluster.local";

function serverConfig(policies: unknown[] = [], version = "v1"): ProxyConfig {
  const c = testConfig({
    version,
    namespace: "default",
    chains: [inboundChain(app.port, "PERMISSIVE", "http")],
    policies,
  });
  return {
    ...c,
    node: {
      ...c.node,
      workloadName: "details-v1",
      labels: { app: "details", version: "v1" },
      serviceAccount: "bookinfo-details",
    },
  };
}

const server = await startTestProxy(serverConfig(), details.identity);
server.dst.current = { address: "127.0.0.1", port: app.port, family: "IPv4" };
after(() => server.proxy.close());

function clientConfig(mode: "ALLOW_ANY" | "REGISTRY_ONLY" = "ALLOW_ANY", port = 9080): ProxyConfig {
  const fallback =
    mode === "ALLOW_ANY"
      ? { name: "allow_any", cluster: "PassthroughCluster" }
      : { name: "block_all", cluster: "BlackHoleCluster" };
  const c = testConfig({
    namespace: "default",
    defaultCluster: mode === "ALLOW_ANY" ? "PassthroughCluster" : "BlackHoleCluster",
    listeners: [
      {
        name: `0.0.0.0_${port}`,
        address: "0.0.0.0",
        port,
        protocol: "http",
        virtualHosts: [
          {
            name: "details.default.svc.cluster.local:9080",
            domains: ["details.default.svc.cluster.local", "details", "details:9080", VIP, `${VIP}:9080`],
            routes: [{ name: "default", clusters: [{ cluster: CLUSTER }] }],
          },
          {
            name: fallback.name,
            domains: ["*"],
            routes: [{ name: fallback.name, clusters: [{ cluster: fallback.cluster }] }],
          },
        ],
      },
    ],
    clusters: [
      {
        name: CLUSTER,
        type: "EDS",
        service: { host: "details.default.svc.cluster.local", namespace: "default", port: 9080 },
        endpoints: [
          {
            address: "127.0.0.1",
            port: server.proxy.ports.inbound,
            tls: { mode: "ISTIO_MUTUAL", subjectAltNames: [details.spiffeId] },
          },
        ],
      },
    ],
  });
  return {
    ...c,
    mesh: { ...c.mesh, outboundTrafficPolicy: mode },
    node: {
      ...c.node,
      workloadName: "productpage-v1",
      labels: { app: "productpage" },
      serviceAccount: "bookinfo-productpage",
    },
  };
}

const client = await startTestProxy(clientConfig(), productpage.identity);
client.dst.current = { address: VIP, port: 9080, family: "IPv4" };
after(() => client.proxy.close());

const out = client.proxy.ports.outbound;
const setPolicies = (policies: unknown[], version: string) =>
  server.proxy.updateConfig(serverConfig(policies, version));

/** Straight to the server sidecar with the client's certificate (no client sidecar to normalize). */
const asProductpage: tls.ConnectionOptions = {
  secureContext: productpage.identity.getSecureContext(),
  servername: "outbound_.9080_._.details.default.svc.cluster.local",
  ALPNProtocols: ["istio"],
  checkServerIdentity: spiffeServerIdentityCheck([details.spiffeId]),
};

test("S3 step 0: no policy → GET /details/0 is 200 JSON through the mTLS pair", async () => {
  setPolicies([], "s3-0");
  const res = await request(out, { path: "/details/0" });
  assert.equal(res.status, 200);
  assert.equal(res.headers["content-type"], "application/json");
  assert.equal((JSON.parse(res.body) as { author: string }).author, "William Shakespeare");
  assert.match(String(res.headers["x-envoy-upstream-service-time"]), /^\d+$/);
  assert.equal(res.headers["x-envoy-peer-metadata"], undefined, "metadata never reaches the application");
});

test("S3 step 1: deny-all → 403 `RBAC: access denied` (text/plain), the app sees nothing", async () => {
  setPolicies([denyAll], "s3-1");
  const before = app.seen.length;
  const res = await request(out, { path: "/details/0" });
  assert.equal(res.status, 403);
  assert.equal(res.body, "RBAC: access denied");
  assert.equal(res.headers["content-type"], "text/plain");
  assert.equal(app.seen.length, before);
});

test("S3 step 2: details-viewer → GET /details/0 200, POST /details/0 403, GET /ping 403", async () => {
  setPolicies([denyAll, detailsViewer], "s3-2");
  assert.equal((await request(out, { path: "/details/0" })).status, 200);
  const post = await request(out, { method: "POST", path: "/details/0", body: "x" });
  assert.equal(post.status, 403);
  assert.equal(post.body, "RBAC: access denied");
  const ping = await request(out, { path: "/ping" });
  assert.equal(ping.status, 403);
  assert.equal(ping.body, "RBAC: access denied");
});

test("path normalization: dot segments and %2e can't reach /admin under `paths: /details/*`", async () => {
  setPolicies([denyAll, detailsViewer], "s3-2b");
  const before = app.seen.length;
  // Sent raw, over mTLS straight to the server sidecar (its own normalization decides), and through the pair.
  for (const path of [
    "/details/../admin",
    "/details/%2e%2e/admin",
    "/details/%2E%2E/admin",
    "/%2e%2e/admin",
  ]) {
    const direct = await request(server.proxy.ports.inbound, { path, tls: asProductpage });
    assert.equal(direct.status, 403, `${path} direct`);
    assert.equal(direct.body, "RBAC: access denied");
    assert.equal((await request(out, { path })).status, 403, `${path} through the pair`);
  }
  assert.equal(app.seen.length, before, "no bypass reached the app");
  // The allowed form is forwarded normalized: the app sees the path the policy judged.
  assert.equal(
    (await request(server.proxy.ports.inbound, { path: "/details/x/../0", tls: asProductpage })).status,
    200,
  );
  assert.equal(app.seen.at(-1)?.path, "/details/0");
});

test("x-forwarded-client-cert is the proxy's own: replaced for mTLS peers, removed for plaintext", async () => {
  setPolicies([], "xfcc");
  const forged = {
    "x-forwarded-client-cert": "By=spiffe://evil;URI=spiffe://cluster.local/ns/default/sa/admin",
  };
  await request(out, { path: "/headers", headers: forged });
  const xfcc = String(app.seen.at(-1)?.headers["x-forwarded-client-cert"]);
  assert.match(
    xfcc,
    /^By=spiffe:\/\/cluster\.local\/ns\/default\/sa\/bookinfo-details;Hash=[0-9a-f]{64};Subject="[^"]*";URI=spiffe:\/\/cluster\.local\/ns\/default\/sa\/bookinfo-productpage$/,
  );
  // Straight to the server sidecar: still replaced.
  await request(server.proxy.ports.inbound, { path: "/headers", headers: forged, tls: asProductpage });
  assert.equal(app.seen.at(-1)?.headers["x-forwarded-client-cert"], xfcc);
  // A plaintext (legacy) client: removed.
  await request(server.proxy.ports.inbound, { path: "/headers", headers: forged });
  assert.equal(app.seen.at(-1)?.headers["x-forwarded-client-cert"], undefined);
  assert.equal(app.seen.at(-1)?.headers["x-forwarded-proto"], "http");
});

test("x-request-id is kept when the client sends one, generated (UUID v4) otherwise", async () => {
  setPolicies([], "rid");
  await request(out, { path: "/headers", headers: { "x-request-id": "abc-123" } });
  assert.equal(app.seen.at(-1)?.headers["x-request-id"], "abc-123");
  await request(out, { path: "/headers" });
  assert.match(
    String(app.seen.at(-1)?.headers["x-request-id"]),
    /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );
  const seen = app.seen.at(-1)?.headers ?? {};
  assert.equal(seen["x-envoy-attempt-count"], "1");
  assert.equal(seen["x-forwarded-proto"], "http");
  assert.equal(seen["x-envoy-peer-metadata"], undefined);
  assert.equal(seen["x-envoy-peer-metadata-id"], undefined);
});

test("keep-alive: a policy swapped between two requests on one connection decides the second", async () => {
  setPolicies([], "ka-1");
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  after(() => agent.destroy());
  const opened = () => server.proxy.stats.snapshot()[`inbound|${app.port}||`]?.opened ?? 0;
  const first = await request(out, { path: "/details/0", agent });
  assert.equal(first.status, 200);
  const sidecarConnections = opened();
  setPolicies([denyAll], "ka-2");
  const second = await request(out, { path: "/details/0", agent });
  assert.equal(second.reused, true, "same client connection");
  assert.equal(second.status, 403);
  assert.equal(second.body, "RBAC: access denied");
  assert.equal(opened(), sidecarConnections, "same pooled sidecar-to-sidecar connection");
  // Denied, the connection stays usable.
  setPolicies([], "ka-3");
  const third = await request(out, { path: "/details/0", agent });
  assert.equal(third.reused, true);
  assert.equal(third.status, 200);
});

test("REGISTRY_ONLY answers 502 for an unknown host; ALLOW_ANY passes it to the original destination", async () => {
  setPolicies([], "egress");
  const blocking = await startTestProxy(clientConfig("REGISTRY_ONLY", app.port), productpage.identity);
  after(() => blocking.proxy.close());
  blocking.dst.current = { address: "127.0.0.1", port: app.port, family: "IPv4" };
  const blocked = await request(blocking.proxy.ports.outbound, { path: "/", host: "unknown.example" });
  assert.equal(blocked.status, 502);
  await eventually("log", () => blocking.lines.length === 1);
  assert.match(blocking.lines[0] ?? "", /"GET \/ HTTP\/1\.1" 502 - direct_response /);
  const passing = await startTestProxy(clientConfig("ALLOW_ANY", app.port), productpage.identity);
  after(() => passing.proxy.close());
  passing.dst.current = { address: "127.0.0.1", port: app.port, family: "IPv4" };
  const through = await request(passing.proxy.ports.outbound, { path: "/anything", host: "unknown.example" });
  assert.equal(through.status, 200);
  assert.equal((JSON.parse(through.body) as { path: string }).path, "/anything");
  await eventually("log", () => passing.lines.length === 1);
  assert.match(passing.lines[0] ?? "", / PassthroughCluster /);
});

/** Replaces what changes between runs (time, durations, ports, ids) so a line can be compared whole. */
function golden(line: string): string {
  return line
    .replace(/^\[[^\]]+\]/, "[TIME]")
    .replace(/ \d+ \d+ "-" "-" "rid-/, ' DUR SVC "-" "-" "rid-')
    .replace(/ \d+ - "-" "-" "rid-/, ' DUR - "-" "-" "rid-')
    .replace(/127\.0\.0\.([16]):\d+/g, "127.0.0.$1:PORT")
    .replace(/inbound\|\d+\|\|/g, "inbound|APP||");
}

test("access log: one line per request in Envoy's format, on both sides", async () => {
  setPolicies([denyAll, detailsViewer], "log");
  client.lines.length = 0;
  server.lines.length = 0;
  await request(out, { path: "/details/0", headers: { "x-request-id": "rid-ok" } });
  await request(out, { method: "POST", path: "/details/0", headers: { "x-request-id": "rid-denied" } });
  await eventually("4 lines", () => client.lines.length === 2 && server.lines.length === 2);
  assert.deepEqual(server.lines.map(golden), [
    '[TIME] "GET /details/0 HTTP/1.1" 200 - via_upstream - "-" 0 82 DUR SVC "-" "-" "rid-ok" "details:9080" "127.0.0.1:PORT" inbound|APP|| 127.0.0.6:PORT 127.0.0.1:PORT 127.0.0.1:PORT outbound_.9080_._.details.default.svc.cluster.local default',
    '[TIME] "POST /details/0 HTTP/1.1" 403 - rbac_access_denied_matched_policy[none] - "-" 0 19 DUR - "-" "-" "rid-denied" "details:9080" "-" inbound|APP|| - 127.0.0.1:PORT 127.0.0.1:PORT outbound_.9080_._.details.default.svc.cluster.local -',
  ]);
  assert.deepEqual(client.lines.map(golden), [
    '[TIME] "GET /details/0 HTTP/1.1" 200 - via_upstream - "-" 0 82 DUR SVC "-" "-" "rid-ok" "details:9080" "127.0.0.1:PORT" outbound|9080||details.default.svc.cluster.local 127.0.0.1:PORT 10.96.0.30:9080 127.0.0.1:PORT - default',
    '[TIME] "POST /details/0 HTTP/1.1" 403 - via_upstream - "-" 0 19 DUR SVC "-" "-" "rid-denied" "details:9080" "127.0.0.1:PORT" outbound|9080||details.default.svc.cluster.local 127.0.0.1:PORT 10.96.0.30:9080 127.0.0.1:PORT - default',
  ]);
});

test("metrics: mutual_tls for the sidecar client, none for a plaintext client, on :15090 /stats/prometheus", async () => {
  setPolicies([], "metrics");
  await request(out, { path: "/details/0" });
  await request(server.proxy.ports.inbound, { path: "/details/0" });
  const text = await (
    await fetch(`http://127.0.0.1:${server.proxy.ports.prometheus}/stats/prometheus`)
  ).text();
  const lines = text.split("\n").filter((l) => l.startsWith("istio_requests_total{"));
  const mtls = lines.find((l) =>
    l.includes('source_principal="spiffe://cluster.local/ns/default/sa/bookinfo-productpage"'),
  );
  assert.ok(mtls, text);
  assert.match(
    mtls,
    /reporter="destination",source_workload="productpage-v1",source_workload_namespace="default",/,
  );
  assert.match(mtls, /destination_workload="details-v1",destination_workload_namespace="default",/);
  assert.match(
    mtls,
    /destination_service="details",destination_service_name="details",destination_service_namespace="default"/,
  );
  assert.match(mtls, /response_code="200",response_flags="-",connection_security_policy="mutual_tls"\} \d+$/);
  const plain = lines.find(
    (l) => l.includes('source_principal="unknown"') && l.includes('response_code="200"'),
  );
  assert.ok(plain, text);
  assert.match(plain, /source_workload="unknown",source_workload_namespace="unknown",/);
  assert.match(plain, /connection_security_policy="none"\} \d+$/);
  assert.match(text, /istio_request_duration_milliseconds_bucket\{reporter="destination",.*le="\+Inf"\} \d+/);
  const own = await (
    await fetch(`http://127.0.0.1:${client.proxy.ports.prometheus}/stats/prometheus`)
  ).text();
  assert.match(
    own,
    /istio_requests_total\{reporter="source",source_workload="productpage-v1",.*destination_workload="details-v1",.*destination_principal="spiffe:\/\/cluster\.local\/ns\/default\/sa\/bookinfo-details",.*destination_service="details\.default\.svc\.cluster\.local",destination_service_name="details",destination_service_namespace="default",request_protocol="http",response_code="200",response_flags="-",connection_security_policy="unknown"\} \d+/,
  );
});
