// The access log parser the e2e tests read sidecar logs with: real lines of each kind in, named fields out.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseAccessLog, tally } from "./mesh-e2e.js";

const HTTP =
  '[2026-11-29T05:16:35.854Z] "GET /details/0 HTTP/1.1" 200 - via_upstream - "-" 0 216 47 29 "-" "curl/7.88.1" "s3-step0-1" "details:9080" "10.244.0.2:9080" inbound|9080|| 10.244.0.2:42482 10.244.0.2:9080 10.244.0.4:35796 outbound_.9080_._.details.default.svc.cluster.local default';
const DENIED =
  '[2026-11-29T05:16:42.938Z] "GET /details/0 HTTP/1.1" 403 - rbac_access_denied_matched_policy[ns[foo]-policy[tcp-policy]-rule[0]] - "-" 0 19 6 - "-" "curl/7.88.1" "s3-step1-5" "details:9080" "-" inbound|9080|| - 10.244.0.2:9080 10.244.0.4:35796 - -';
const OUTBOUND =
  '[2026-11-29T05:20:01.000Z] "GET /reviews/0 HTTP/1.1" 504 UT response_timeout - "-" 0 24 501 - "-" "curl/7.88.1" "rt-timeout" "reviews:9080" "10.244.0.9:9080" outbound|9080|v2|reviews.default.svc.cluster.local 10.244.0.7:40000 10.96.0.12:9080 10.244.0.7:39000 - default/reviews#0';
const TCP =
  '[2026-11-29T05:21:00.000Z] "- - -" 0 - - - "-" 10 10 3 - "-" "-" "-" "-" "10.244.0.11:9000" outbound|9000|v1|tcp-echo.foo.svc.cluster.local 10.244.0.8:41000 10.96.0.20:9000 10.244.0.8:40000 - -';

test("parseAccessLog names each field of HTTP, denied, outbound and TCP lines", () => {
  const [http, denied, outbound, tcp] = parseAccessLog([HTTP, DENIED, OUTBOUND, TCP].join("\n"));
  assert.equal(http?.request, "GET /details/0 HTTP/1.1");
  assert.equal(http?.code, "200");
  assert.equal(http?.details, "via_upstream");
  assert.equal(http?.requestId, "s3-step0-1");
  assert.equal(http?.authority, "details:9080");
  assert.equal(http?.upstreamHost, "10.244.0.2:9080");
  assert.equal(http?.cluster, "inbound|9080||");
  assert.equal(http?.downstreamRemote, "10.244.0.4:35796");
  assert.equal(http?.routeName, "default");
  assert.equal(denied?.details, "rbac_access_denied_matched_policy[ns[foo]-policy[tcp-policy]-rule[0]]");
  assert.equal(denied?.upstreamHost, "-");
  assert.equal(outbound?.flags, "UT");
  assert.equal(outbound?.cluster, "outbound|9080|v2|reviews.default.svc.cluster.local");
  assert.equal(outbound?.routeName, "default/reviews#0");
  assert.equal(tcp?.request, "- - -");
  assert.equal(tcp?.cluster, "outbound|9000|v1|tcp-echo.foo.svc.cluster.local");
});

test("parseAccessLog skips a proxy's other output", () => {
  const text = `2026-11-29T05:16:35.000Z proxy=sidecar event=config version=abc\n${HTTP}\n[not an access log line]\n`;
  assert.deepEqual(
    parseAccessLog(text).map((e) => e.requestId),
    ["s3-step0-1"],
  );
});

test("tally counts each value", () => {
  assert.deepEqual(tally(["v1", "v3", "v1"]), { v1: 2, v3: 1 });
});
