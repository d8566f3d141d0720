// The access log as the mesh config asks: JSON with Istio's default keys (typed as Envoy's JSON
// formatter types them), a custom text format, and no log at all for accessLogFile "".
import assert from "node:assert/strict";
import { test } from "node:test";
import { accessLogFormatter, ISTIO_JSON_KEYS } from "./access-log-format.js";
import { formatHttpLine } from "./http-log.js";
import type { HttpLogEntry } from "./http-log.js";
import type { TcpLogEntry } from "./access-log.js";

const start = new Date("2026-01-02T03:04:05.678Z");
const http: HttpLogEntry = {
  start,
  method: "GET",
  path: "/a//b",
  protocol: "HTTP/1.1",
  code: 403,
  flags: [],
  details: "rbac_access_denied_matched_policy[none]",
  bytesReceived: 0,
  bytesSent: 19,
  durationMs: 1.2,
  userAgent: "curl/8",
  requestId: "r-1",
  authority: "app:8080",
  upstreamCluster: "inbound|8080||",
  downstreamLocal: "10.244.0.5:8080",
  downstreamRemote: "10.244.0.6:40000",
};
const tcp: TcpLogEntry = {
  start,
  flags: ["UF"],
  bytesReceived: 3,
  bytesSent: 0,
  durationMs: 4,
  upstreamCluster: "BlackHoleCluster",
};

test("default settings: Envoy's default text line, unchanged", () => {
  assert.equal(accessLogFormatter(undefined).http(http), formatHttpLine(http));
  assert.equal(
    accessLogFormatter({ file: "/dev/stdout", encoding: "TEXT" }).http(http),
    formatHttpLine(http),
  );
});

test("JSON: one object per line with Istio's default keys; numbers typed, absent values null", () => {
  const f = accessLogFormatter({ file: "/dev/stdout", encoding: "JSON" });
  const line = f.http(http)!;
  assert.ok(!line.includes("\n"));
  const o = JSON.parse(line) as Record<string, unknown>;
  assert.deepEqual(Object.keys(o), Object.keys(ISTIO_JSON_KEYS));
  assert.equal(o["start_time"], "2026-01-02T03:04:05.678Z");
  assert.equal(o["method"], "GET");
  assert.equal(o["path"], "/a//b");
  assert.equal(o["response_code"], 403);
  assert.equal(o["response_flags"], null);
  assert.equal(o["response_code_details"], "rbac_access_denied_matched_policy[none]");
  assert.equal(o["bytes_sent"], 19);
  assert.equal(o["duration"], 1);
  assert.equal(o["upstream_cluster"], "inbound|8080||");
  assert.equal(o["x_forwarded_for"], null);
  const t = JSON.parse(f.tcp(tcp)!) as Record<string, unknown>;
  assert.equal(t["response_code"], 0);
  assert.equal(t["response_flags"], "UF");
  assert.equal(t["method"], null);
  assert.equal(t["upstream_cluster"], "BlackHoleCluster");
});

test("a custom format: TEXT substitutes operators (`-` when absent); JSON uses the given keys", () => {
  const text = accessLogFormatter({
    file: "/dev/stdout",
    encoding: "TEXT",
    format: "%REQ(:METHOD)% %RESPONSE_CODE% %REQ(X-FORWARDED-FOR)% %FOO%\n",
  });
  assert.equal(text.http(http), "GET 403 - -");
  const json = accessLogFormatter({
    file: "/dev/stdout",
    encoding: "JSON",
    format: '{"code":"%RESPONSE_CODE%","what":"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"}',
  });
  assert.deepEqual(JSON.parse(json.http(http)!), { code: 403, what: "GET /a//b" });
});

test('accessLogFile "" logs nothing', () => {
  const f = accessLogFormatter({ file: "", encoding: "JSON" });
  assert.equal(f.http(http), undefined);
  assert.equal(f.tcp(tcp), undefined);
});
