import assert from "node:assert/strict";
import { test } from "node:test";
import type { AccessRecord } from "./access-log-parse.js";
import type { ProxyObservation, ReportWorkload } from "./mtls-report.js";
import { mtlsReport } from "./mtls-report.js";

const now = new Date("2026-01-01T12:00:00Z");
const ago = (s: number) => new Date(now.getTime() - s * 1000);

function wl(namespace: string, workload: string, ip: string, sidecar = true, extra = {}): ReportWorkload {
  return {
    namespace,
    workload,
    sidecar,
    mode: "PERMISSIVE",
    modePolicy: null,
    labels: { app: workload, "pod-template-hash": "abc" },
    pods: [{ name: `${workload}-1`, ip }],
    ...extra,
  };
}

function rec(from: string, mtls: boolean, at: Date, inbound = true): AccessRecord {
  return {
    time: at,
    method: "GET",
    path: "/ip",
    code: 200,
    flags: "-",
    details: "via_upstream",
    durationMs: 1,
    authority: "httpbin:8000",
    upstreamCluster: inbound ? "inbound|8080||" : "outbound|8000||httpbin.bar.svc.cluster.local",
    downstreamLocal: "10.244.0.2:8080",
    downstreamRemote: `${from}:40000`,
    sni: mtls ? "outbound_.8000_._.httpbin.foo.svc.cluster.local" : undefined,
    inbound,
    line: "",
  };
}

const cluster = [
  wl("foo", "httpbin", "10.0.0.1"),
  wl("bar", "httpbin", "10.0.0.2"),
  wl("foo", "curl", "10.0.0.3"),
  wl("legacy", "curl", "10.0.0.9", false),
];

function obs(namespace: string, workload: string, log: AccessRecord[], samples = []): ProxyObservation {
  return { namespace, pod: `${workload}-1`, workload, log, samples };
}

const cases: Array<{
  name: string;
  proxies: ProxyObservation[];
  workloads?: ReportWorkload[];
  expect: Array<{ ns: string; wl: string; plain: string[]; mtls: string[]; safe: boolean; strict?: boolean }>;
}> = [
  {
    name: "legacy client is a plaintext source of the one workload it called; the other is safe",
    proxies: [
      obs("foo", "httpbin", [rec("10.0.0.9", false, ago(5)), rec("10.0.0.3", true, ago(4))]),
      obs("bar", "httpbin", [rec("10.0.0.3", true, ago(3)), rec("10.0.0.3", true, ago(2))]),
    ],
    expect: [
      { ns: "bar", wl: "httpbin", plain: [], mtls: ["foo/curl 10.0.0.3 x2"], safe: true },
      {
        ns: "foo",
        wl: "httpbin",
        plain: ["legacy/curl 10.0.0.9 x1"],
        mtls: ["foo/curl 10.0.0.3 x1"],
        safe: false,
      },
    ],
  },
  {
    name: "lines older than the window are not sources, but the workload is still listed",
    proxies: [obs("foo", "httpbin", [rec("10.0.0.9", false, ago(3600))])],
    expect: [{ ns: "foo", wl: "httpbin", plain: [], mtls: [], safe: true }],
  },
  {
    name: "an address the cluster does not know is an unknown source; outbound lines are not inbound traffic",
    proxies: [
      obs("foo", "httpbin", [rec("192.0.2.7", false, ago(1))]),
      obs("foo", "curl", [rec("10.0.0.1", true, ago(1), false)]),
    ],
    expect: [{ ns: "foo", wl: "httpbin", plain: ["unknown/unknown 192.0.2.7 x1"], mtls: [], safe: false }],
  },
  {
    name: "without an access log, metrics name mTLS peers and count plaintext as unknown",
    proxies: [
      {
        ...obs("bar", "httpbin", []),
        samples: [
          {
            name: "istio_requests_total",
            labels: {
              reporter: "destination",
              connection_security_policy: "mutual_tls",
              source_workload: "curl",
              source_workload_namespace: "foo",
            },
            value: 4,
          },
          {
            name: "istio_requests_total",
            labels: {
              reporter: "destination",
              connection_security_policy: "none",
              source_workload: "unknown",
            },
            value: 2,
          },
          {
            name: "istio_requests_total",
            labels: { reporter: "source", connection_security_policy: "unknown" },
            value: 9,
          },
        ],
      },
    ],
    expect: [
      { ns: "bar", wl: "httpbin", plain: ["unknown/unknown  x2"], mtls: ["foo/curl  x4"], safe: false },
    ],
  },
  {
    name: "DISABLE: plaintext from a sidecar client does not block STRICT (auto mTLS upgrades it)",
    workloads: [{ ...wl("foo", "httpbin", "10.0.0.1"), mode: "DISABLE" }, ...cluster.slice(1)],
    proxies: [obs("foo", "httpbin", [rec("10.0.0.3", false, ago(1))])],
    expect: [{ ns: "foo", wl: "httpbin", plain: ["foo/curl 10.0.0.3 x1"], mtls: [], safe: true }],
  },
  {
    name: "already STRICT: no suggestion",
    workloads: [{ ...wl("foo", "httpbin", "10.0.0.1"), mode: "STRICT" }, ...cluster.slice(1)],
    proxies: [obs("foo", "httpbin", [rec("10.0.0.3", true, ago(1))])],
    expect: [
      { ns: "foo", wl: "httpbin", plain: [], mtls: ["foo/curl 10.0.0.3 x1"], safe: true, strict: true },
    ],
  },
];

for (const c of cases)
  test(c.name, () => {
    const report = mtlsReport({
      workloads: c.workloads ?? cluster,
      proxies: c.proxies,
      now,
      windowMs: 600_000,
    });
    const show = (s: { namespace: string; workload: string; ip: string; count: number }) =>
      `${s.namespace}/${s.workload} ${s.ip} x${s.count}`;
    assert.deepEqual(
      report.workloads.map((w) => ({
        ns: w.namespace,
        wl: w.workload,
        plain: w.plaintextSources.map(show),
        mtls: w.mtlsSources.map(show),
        safe: w.safeForStrict,
        ...(w.suggestedPolicy === null ? { strict: true } : {}),
      })),
      c.expect,
    );
  });

test("lastSeen is the newest line; the suggestion selects by app", () => {
  const report = mtlsReport({
    workloads: cluster,
    proxies: [obs("foo", "httpbin", [rec("10.0.0.9", false, ago(30)), rec("10.0.0.9", false, ago(10))])],
    now,
    windowMs: 600_000,
  });
  const w = report.workloads[0];
  assert.equal(w?.plaintextSources[0]?.lastSeen, ago(10).toISOString());
  assert.deepEqual(w?.suggestedPolicy, {
    apiVersion: "security.istio.io/v1",
    kind: "PeerAuthentication",
    metadata: { name: "httpbin-strict", namespace: "foo" },
    spec: { selector: { matchLabels: { app: "httpbin" } }, mtls: { mode: "STRICT" } },
  });
});
