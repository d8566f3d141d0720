// Golden lines: the access log is Envoy's default text format, field for field.
import assert from "node:assert/strict";
import { test } from "node:test";
import { formatTcpLine, hostPort } from "./access-log.js";

const start = new Date("2026-01-02T03:04:05.678Z");

test("an allowed outbound TCP connection", () => {
  assert.equal(
    formatTcpLine({
      start,
      flags: [],
      bytesReceived: 3,
      bytesSent: 17,
      durationMs: 12.4,
      upstreamHost: "10.244.0.2:9000",
      upstreamCluster: "outbound|9000||tcp-echo.foo.svc.cluster.local",
      upstreamLocal: "10.244.1.2:40412",
      downstreamLocal: "10.96.0.10:9000",
      downstreamRemote: "10.244.1.2:40410",
    }),
    '[2026-01-02T03:04:05.678Z] "- - -" 0 - - - "-" 3 17 12 - "-" "-" "-" "-" "10.244.0.2:9000" ' +
      "outbound|9000||tcp-echo.foo.svc.cluster.local 10.244.1.2:40412 10.96.0.10:9000 10.244.1.2:40410 - -",
  );
});

test("an inbound connection denied by RBAC", () => {
  assert.equal(
    formatTcpLine({
      start,
      flags: [],
      terminationDetails: "rbac_access_denied_matched_policy[ns[foo]-policy[tcp-policy]-rule[0]]",
      bytesReceived: 0,
      bytesSent: 0,
      durationMs: 0,
      upstreamCluster: "inbound|9000||",
      downstreamLocal: "10.244.0.2:9000",
      downstreamRemote: "10.244.1.2:51234",
      sni: "outbound_.9000_._.tcp-echo.foo.svc.cluster.local",
    }),
    '[2026-01-02T03:04:05.678Z] "- - -" 0 - - rbac_access_denied_matched_policy[ns[foo]-policy[tcp-policy]-rule[0]] ' +
      '"-" 0 0 0 - "-" "-" "-" "-" "-" inbound|9000|| - 10.244.0.2:9000 10.244.1.2:51234 ' +
      "outbound_.9000_._.tcp-echo.foo.svc.cluster.local -",
  );
});

test("flags join with commas; quotes and spaces cannot break the line's fields", () => {
  const line = formatTcpLine({
    start,
    flags: ["UF", "URX"],
    upstreamTransportFailure: 'TLS_error:"bad" cert\nx',
    bytesReceived: 0,
    bytesSent: 0,
    durationMs: 1,
    upstreamCluster: "a b",
  });
  assert.match(line, / 0 UF,URX - - "TLS_error:'bad' cert'x" 0 0 1 /);
  assert.match(line, / a_b /);
});

test("addresses: IPv6 in brackets, IPv4-mapped shown as IPv4", () => {
  assert.equal(hostPort("::1", 80), "[::1]:80");
  assert.equal(hostPort("::ffff:10.0.0.1", 80), "10.0.0.1:80");
  assert.equal(hostPort(undefined, 80), undefined);
});
