import assert from "node:assert/strict";
import { test } from "node:test";
import { runCli } from "../../testing/cli-harness.js";

const FILES = ["-f", "samples/bookinfo", "-f", "samples/curl", "-f", "samples/tcp-echo"];

test("x route check from files: a URL, text output naming listener, route, cluster and endpoints", async () => {
  const r = await runCli([
    "x",
    "route",
    "check",
    ...FILES,
    "--from",
    "productpage.default",
    "http://details:9080/details/0",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Listener: {2}0\.0\.0\.0_9080 \(http\)$/m);
  assert.match(r.stdout, /✔ route "default" matched/);
  assert.match(r.stdout, /^Cluster: {3}outbound\|9080\|\|details\.default\.svc\.cluster\.local$/m);
  assert.match(r.stdout, /^ {2}10\.244\.\d+\.\d+:9080 {2}details-v1-\S+\.default$/m);
});

test("x route check -o json: --host/--port, headers, method; the document carries the route and clusters", async () => {
  const r = await runCli([
    "x",
    "route",
    "check",
    ...FILES,
    "--namespace",
    "default",
    "--labels",
    "app=client",
    "--host",
    "details",
    "--port",
    "9080",
    "--path",
    "/x?y=1",
    "-X",
    "post",
    "-H",
    "end-user: jason",
    "-o",
    "json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as {
    request: { method: string; path: string; query: string };
    route: { name: string; clusters: Array<{ cluster: string }> };
    clusters: Array<{ endpoints: unknown[] }>;
  };
  assert.deepEqual([doc.request.method, doc.request.path, doc.request.query], ["POST", "/x", "y=1"]);
  assert.equal(doc.route.name, "default");
  assert.equal(doc.route.clusters[0]!.cluster, "outbound|9080||details.default.svc.cluster.local");
  assert.equal(doc.clusters[0]!.endpoints.length, 1);
});

test("x route check: usage errors and an unknown pod", async () => {
  const noFrom = await runCli(["x", "route", "check", ...FILES, "http://details:9080/"]);
  assert.notEqual(noFrom.code, 0);
  assert.match(noFrom.stderr, /--from POD\.NS/);
  const both = await runCli([
    "x",
    "route",
    "check",
    ...FILES,
    "--from",
    "curl.default",
    "http://a/",
    "--host",
    "b",
    "--port",
    "1",
  ]);
  assert.notEqual(both.code, 0);
  const missing = await runCli([
    "x",
    "route",
    "check",
    ...FILES,
    "--from",
    "nope.default",
    "http://details:9080/",
  ]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no pod "nope" in namespace default/);
});
