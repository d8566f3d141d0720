import assert from "node:assert/strict";
import { test } from "node:test";
import type { BaseLabels } from "../metrics.js";
import { ProxyStats } from "../stats.js";
import { sumStats } from "./aggregate.js";

const labels = (code: string): BaseLabels => ({
  reporter: "source",
  source_workload: "istio-ingressgateway",
  source_workload_namespace: "istio-system",
  source_principal: "unknown",
  source_app: "istio-ingressgateway",
  source_version: "unknown",
  destination_workload: `httpbin-${code}`,
  destination_workload_namespace: "default",
  destination_principal: "spiffe://cluster.local/ns/default/sa/httpbin",
  destination_app: "httpbin",
  destination_version: "v1",
  destination_service: "httpbin.default.svc.cluster.local",
  destination_service_name: "httpbin",
  destination_service_namespace: "default",
  request_protocol: "http",
  connection_security_policy: "mutual_tls",
});

/** One event a proxy counts; applied to one ProxyStats or split over several. */
type Event = (s: ProxyStats) => void;

const events: Event[] = [];
for (let i = 0; i < 40; i++) {
  const group = i % 3 === 0 ? "a" : "b";
  events.push((s) => {
    const c = s.counters(i % 2 ? "outbound|8000||httpbin.default.svc.cluster.local" : "0.0.0.0_8080");
    c.opened++;
    c.closed += i % 4 === 0 ? 1 : 0;
    c.bytesReceived += 100 + i;
    c.bytesSent += 1000 * i;
    const g = s.mesh.group(labels(group));
    s.mesh.request(g, i % 5 === 0 ? 503 : 200, i % 5 === 0 ? "UF" : "-", i * 7.5, 10 * i, 100 * i);
    if (i % 6 === 0) {
      s.mesh.tcpOpened(g);
      s.mesh.tcpClosed(g, i, 2 * i);
    }
    if (i % 7 === 0) s.peerOpened("0.0.0.0_8080", "spiffe://cluster.local/ns/foo/sa/curl");
    if (i % 9 === 0) s.listenerOverflow("0.0.0.0_8080");
  });
}

test("the sum of workers' stats renders exactly as one proxy that saw every event", () => {
  const one = new ProxyStats();
  for (const e of events) e(one);
  // Three workers, each seeing a different share (one sees nothing).
  const workers = [new ProxyStats(), new ProxyStats(), new ProxyStats()];
  events.forEach((e, i) => e(workers[i % 3 === 2 ? 1 : i % 2]!));
  // Through JSON, as the exports cross the IPC channel.
  const parts = workers.map(
    (w) => JSON.parse(JSON.stringify(w.export())) as ReturnType<ProxyStats["export"]>,
  );
  const sum = sumStats(parts);
  assert.ok(one.text().length > 0 && one.mesh.text().includes("istio_request_duration_milliseconds_bucket"));
  assert.equal(sum.text(), one.text());
  assert.equal(sum.mesh.text(), one.mesh.text());
  assert.deepEqual(sum.snapshot(), one.snapshot());
  assert.deepEqual(sum.peers(), one.peers());
});

test("histograms are merged bucket by bucket, counters added", () => {
  const a = new ProxyStats();
  const b = new ProxyStats();
  const ga = a.mesh.group(labels("a"));
  const gb = b.mesh.group(labels("a"));
  a.mesh.request(ga, 200, "-", 0.3, 5, 5); // le=0.5
  b.mesh.request(gb, 200, "-", 30, 5, 5); // le=50
  b.mesh.request(gb, 200, "-", 0.4, 5, 5); // le=0.5
  const text = sumStats([a.export(), b.export()]).mesh.text();
  const bucket = (le: string) =>
    new RegExp(`istio_request_duration_milliseconds_bucket\\{[^}]*le="${le}"\\} (\\d+)`).exec(text)?.[1];
  assert.equal(bucket("0.5"), "2");
  assert.equal(bucket("25"), "2");
  assert.equal(bucket("50"), "3");
  assert.match(text, /istio_requests_total\{[^}]*response_code="200"[^}]*\} 3\n/);
  assert.match(text, /istio_request_duration_milliseconds_sum\{[^}]*\} 30\.7\n/);
  assert.equal(sumStats([]).text(), "");
});
