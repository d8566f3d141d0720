import assert from "node:assert/strict";
import { test } from "node:test";
import { histogramQuantile, meshGraph } from "./mesh-graph.js";
import type { MtlsReport } from "./mtls-report.js";
import type { Sample } from "./prom-text.js";

const workloads = [
  { namespace: "foo", workload: "httpbin", sidecar: true },
  { namespace: "foo", workload: "curl", sidecar: true },
  { namespace: "legacy", workload: "curl", sidecar: false },
];

function req(src: string, csp: string, code: string, value: number): Sample {
  const [ns, wl] = src.split("/");
  return {
    name: "istio_requests_total",
    labels: {
      reporter: "destination",
      source_workload: wl as string,
      source_workload_namespace: ns as string,
      destination_workload: "httpbin",
      destination_workload_namespace: "foo",
      connection_security_policy: csp,
      request_protocol: "http",
      response_code: code,
    },
    value,
  };
}

function bucket(src: string, le: string, value: number): Sample {
  const [ns, wl] = src.split("/");
  return {
    name: "istio_request_duration_milliseconds_bucket",
    labels: {
      reporter: "destination",
      source_workload: wl as string,
      source_workload_namespace: ns as string,
      destination_workload: "httpbin",
      destination_workload_namespace: "foo",
      connection_security_policy: "mutual_tls",
      le,
    },
    value,
  };
}

const report = (plaintext: string[]): MtlsReport => ({
  workloads: [
    {
      namespace: "foo",
      workload: "httpbin",
      mode: "PERMISSIVE",
      modePolicy: null,
      plaintextSources: plaintext.map((p) => {
        const [namespace = "", workload = ""] = p.split("/");
        return { namespace, workload, ip: "10.0.0.9", count: 1, lastSeen: null, sidecar: false };
      }),
      mtlsSources: [],
      safeForStrict: plaintext.length === 0,
      suggestedPolicy: null,
    },
  ],
});

test("edges per source and security; the plaintext edge is named from the access log join", () => {
  const samples = [
    req("foo/curl", "mutual_tls", "200", 8),
    req("foo/curl", "mutual_tls", "503", 2),
    req("unknown/unknown", "none", "200", 3),
    bucket("foo/curl", "1", 5),
    bucket("foo/curl", "5", 9),
    bucket("foo/curl", "10", 10),
    bucket("foo/curl", "+Inf", 10),
  ];
  const proxies = [{ namespace: "foo", workload: "httpbin", samples }];
  const first = meshGraph({ workloads, proxies, report: report(["legacy/curl"]), now: 1000 });
  const edges = first.graph.edges.map((e) => [e.source, e.target, e.mtls, e.total, e.errorRate, e.rate]);
  assert.deepEqual(edges, [
    ["foo/curl", "foo/httpbin", true, 10, 0.2, null],
    ["legacy/curl", "foo/httpbin", false, 3, 0, null],
  ]);
  assert.ok(Math.abs((first.graph.edges[0]?.p99Ms ?? 0) - 9.5) < 1e-9, "rank 9.9 of 10: 5 + 5 × 0.9");

  const later = [req("foo/curl", "mutual_tls", "200", 18), ...samples.slice(1)];
  const second = meshGraph({
    workloads,
    proxies: [{ namespace: "foo", workload: "httpbin", samples: later }],
    report: report(["legacy/curl"]),
    previous: first.readings,
    now: 3000,
  });
  assert.equal(second.graph.edges[0]?.rate, 5, "10 more requests over 2 s");
});

test("two plaintext clients cannot be told apart in metrics: one unknown node", () => {
  const proxies = [
    { namespace: "foo", workload: "httpbin", samples: [req("unknown/unknown", "none", "200", 3)] },
  ];
  const g = meshGraph({ workloads, proxies, report: report(["legacy/curl", "other/curl"]), now: 0 }).graph;
  assert.deepEqual(
    g.edges.map((e) => e.source),
    ["unknown/unknown"],
  );
  assert.ok(g.nodes.some((n) => n.id === "unknown/unknown" && !n.sidecar));
});

test("histogram_quantile: empty is null, +Inf bucket answers the last finite bound", () => {
  assert.equal(histogramQuantile(0.99, []), null);
  assert.equal(
    histogramQuantile(0.99, [
      { le: 10, count: 1 },
      { le: Infinity, count: 10 },
    ]),
    10,
  );
});
