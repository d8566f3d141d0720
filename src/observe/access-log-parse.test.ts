import assert from "node:assert/strict";
import { test } from "node:test";
import { formatTcpLine } from "../proxy/access-log.js";
import { formatHttpLine } from "../proxy/http-log.js";
import { addressOf, isDenial, isMeshSni, parseAccessLog } from "./access-log-parse.js";

const start = new Date("2026-01-02T03:04:05.678Z");

test("an inbound HTTP line written by the proxy reads back field by field", () => {
  const line = formatHttpLine({
    start,
    method: "GET",
    path: "/ip",
    protocol: "HTTP/1.1",
    code: 403,
    flags: [],
    details: "rbac_access_denied_matched_policy[ns[foo]-policy[deny-get]-rule[0]]",
    bytesReceived: 0,
    bytesSent: 19,
    durationMs: 2,
    userAgent: 'curl "quoted"',
    authority: "httpbin.foo:8000",
    upstreamCluster: "inbound|8080||",
    downstreamLocal: "10.244.0.5:8080",
    downstreamRemote: "10.244.0.9:51234",
    sni: "outbound_.8000_._.httpbin.foo.svc.cluster.local",
  });
  const [r, ...rest] = parseAccessLog(`{"event":"not a log line"}\n${line}\n`);
  assert.equal(rest.length, 0);
  assert.ok(r);
  assert.equal(r.time.toISOString(), start.toISOString());
  assert.equal(r.method, "GET");
  assert.equal(r.path, "/ip");
  assert.equal(r.code, 403);
  assert.equal(r.authority, "httpbin.foo:8000");
  assert.equal(r.inbound, true);
  assert.equal(addressOf(r.downstreamRemote), "10.244.0.9");
  assert.equal(isMeshSni(r.sni), true);
  assert.equal(isDenial(r), true);
  assert.equal(r.line, line);
});

test("a plaintext outbound TCP line: no SNI, not inbound, termination details as details", () => {
  const line = formatTcpLine({
    start,
    flags: [],
    terminationDetails: undefined,
    bytesReceived: 5,
    bytesSent: 11,
    durationMs: 1,
    upstreamCluster: "outbound|9000||tcp-echo.foo.svc.cluster.local",
    downstreamLocal: "10.96.0.3:9000",
    downstreamRemote: "[fd00::1]:4000",
  });
  const [r] = parseAccessLog(line);
  assert.ok(r);
  assert.equal(r.method, undefined);
  assert.equal(r.code, 0);
  assert.equal(r.inbound, false);
  assert.equal(r.sni, undefined);
  assert.equal(isMeshSni(r.sni), false);
  assert.equal(isDenial(r), false);
  assert.equal(addressOf(r.downstreamRemote), "fd00::1");
});
