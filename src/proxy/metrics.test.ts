// Prometheus text for Istio's standard metrics: one series per label set and outcome, histograms with
// cumulative buckets, TCP counters only for groups that saw connections, label values escaped.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { BaseLabels } from "./metrics.js";
import { MeshMetrics } from "./metrics.js";
import { peerFromSpiffe, peerWithMetadata, serviceParts } from "./metrics-labels.js";

const labels: BaseLabels = {
  reporter: "destination",
  source_workload: "unknown",
  source_workload_namespace: "default",
  source_principal: 'spiffe://cluster.local/ns/default/sa/a"b',
  source_app: "unknown",
  source_version: "unknown",
  destination_workload: "details-v1",
  destination_workload_namespace: "default",
  destination_principal: "spiffe://cluster.local/ns/default/sa/bookinfo-details",
  destination_app: "details",
  destination_version: "v1",
  destination_service: "details.default.svc.cluster.local",
  destination_service_name: "details",
  destination_service_namespace: "default",
  request_protocol: "http",
  connection_security_policy: "mutual_tls",
};

test("requests: counter and histograms per (labels, code, flags); the same labels share one group", () => {
  const m = new MeshMetrics();
  const g = m.group(labels);
  assert.equal(m.group({ ...labels }), g);
  m.request(g, 200, "-", 3, 0, 82);
  m.request(g, 200, "-", 700, 0, 82);
  m.request(g, 503, "UF", 1, 0, 91);
  const text = m.text();
  assert.match(text, /^# HELP istio_requests_total /m);
  assert.match(text, /^# TYPE istio_request_duration_milliseconds histogram$/m);
  assert.match(text, /source_principal="spiffe:\/\/cluster\.local\/ns\/default\/sa\/a\\"b"/, "escaped quote");
  assert.match(
    text,
    /^istio_requests_total\{reporter="destination",.*response_code="200",response_flags="-",connection_security_policy="mutual_tls"\} 2$/m,
  );
  assert.match(text, /^istio_requests_total\{.*response_code="503",response_flags="UF",.*\} 1$/m);
  assert.match(text, /^istio_request_duration_milliseconds_bucket\{.*response_code="200".*le="5"\} 1$/m);
  assert.match(text, /^istio_request_duration_milliseconds_bucket\{.*response_code="200".*le="1000"\} 2$/m);
  assert.match(text, /^istio_request_duration_milliseconds_sum\{.*response_code="200".*\} 703$/m);
  assert.doesNotMatch(text, /istio_tcp_/, "no TCP families without TCP connections");
});

test("tcp: opened, closed and bytes per group", () => {
  const m = new MeshMetrics();
  const g = m.group({ ...labels, request_protocol: "tcp", connection_security_policy: "none" });
  m.tcpOpened(g);
  m.tcpOpened(g);
  m.tcpClosed(g, 10, 20);
  const text = m.text();
  assert.match(
    text,
    /^istio_tcp_connections_opened_total\{.*request_protocol="tcp",response_flags="-",connection_security_policy="none"\} 2$/m,
  );
  assert.match(text, /^istio_tcp_connections_closed_total\{.*\} 1$/m);
  assert.match(text, /^istio_tcp_sent_bytes_total\{.*\} 10$/m);
  assert.match(text, /^istio_tcp_received_bytes_total\{.*\} 20$/m);
});

test("peers: namespace from the SPIFFE id, metadata trusted only in that namespace, unknown otherwise", () => {
  assert.deepEqual(peerFromSpiffe(undefined), {
    workload: "unknown",
    namespace: "unknown",
    principal: "unknown",
    app: "unknown",
    version: "unknown",
  });
  const id = "spiffe://cluster.local/ns/default/sa/curl";
  assert.equal(peerFromSpiffe(id).namespace, "default");
  const meta = (ns: string) =>
    Buffer.from(JSON.stringify({ WORKLOAD_NAME: "curl-v1", NAMESPACE: ns, APP: "curl" })).toString("base64");
  assert.equal(peerWithMetadata(id, meta("default")).workload, "curl-v1");
  assert.equal(
    peerWithMetadata(id, meta("other")).workload,
    "unknown",
    "a namespace the certificate doesn't back",
  );
  assert.equal(
    peerWithMetadata(undefined, meta("default")).workload,
    "unknown",
    "plaintext peers are not believed",
  );
  assert.deepEqual(serviceParts("details.default.svc.cluster.local", "x"), {
    name: "details",
    namespace: "default",
  });
  assert.deepEqual(serviceParts("details", "x"), { name: "details", namespace: "x" });
});
