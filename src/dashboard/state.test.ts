import assert from "node:assert/strict";
import { test } from "node:test";
import type { AnyResource } from "../api/meta.js";
import type { ProxyStatusRow } from "../controlplane/xds/status.js";
import { observe } from "../observe/collect.js";
import { formatHttpLine } from "../proxy/http-log.js";
import { dashboardState } from "./state.js";

const pod = (ns: string, name: string, app: string, ip: string, sidecar: boolean) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name,
    namespace: ns,
    labels: { app },
    ownerReferences: [{ kind: "ReplicaSet", name: `${app}-5d9f` }],
  },
  spec: { containers: [{ name: app }, ...(sidecar ? [{ name: "istio-proxy" }] : [])] },
  status: { phase: "Running", podIP: ip },
});

const resources = [
  pod("foo", "httpbin-5d9f-a", "httpbin", "10.244.0.2", true),
  pod("legacy", "curl-5d9f-b", "curl", "10.244.0.9", false),
  {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "httpbin", namespace: "foo" },
    spec: { selector: { app: "httpbin" }, ports: [{ name: "http", port: 8000, targetPort: 8080 }] },
  },
  {
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name: "deny-headers", namespace: "foo" },
    spec: { action: "DENY", rules: [{ to: [{ operation: { paths: ["/headers"] } }] }] },
  },
] as unknown as AnyResource[];

const at = new Date("2026-01-01T00:00:10Z");
const line = (path: string, code: number, details: string) =>
  formatHttpLine({
    start: new Date("2026-01-01T00:00:05Z"),
    method: "GET",
    path,
    protocol: "HTTP/1.1",
    code,
    flags: [],
    details,
    bytesReceived: 0,
    bytesSent: 0,
    durationMs: 1,
    upstreamCluster: "inbound|8080||",
    downstreamLocal: "10.244.0.2:8080",
    downstreamRemote: "10.244.0.9:40000",
  });
const metrics = `istio_requests_total{reporter="destination",source_workload="unknown",source_workload_namespace="unknown",destination_workload="httpbin",destination_workload_namespace="foo",connection_security_policy="none",request_protocol="http",response_code="200"} 2`;

test("the dashboard's state: workload, pods with sync, policies, ports, log with denials, graph, report", () => {
  const seen = observe(
    resources,
    [
      {
        namespace: "foo",
        pod: "httpbin-5d9f-a",
        metrics,
        log: [
          line("/ip", 200, "via_upstream"),
          line("/headers", 403, "rbac_access_denied_matched_policy[ns[foo]-policy[deny-headers]-rule[0]]"),
        ],
      },
    ],
    at,
  );
  const status = [{ namespace: "foo", podName: "httpbin-5d9f-a", state: "SYNCED", versionAcked: "v3" }];
  const { state } = dashboardState(seen, status as unknown as ProxyStatusRow[], 600_000);
  assert.deepEqual(state.namespaces, ["foo", "legacy"]);
  const w = state.workloads.find((x) => x.id === "foo/httpbin");
  assert.ok(w);
  assert.deepEqual(w.pods, [
    { name: "httpbin-5d9f-a", ip: "10.244.0.2", ready: true, sync: "SYNCED", version: "v3" },
  ]);
  assert.deepEqual(
    w.policies.map((p) => `${p.action} ${p.policy}`),
    ["DENY foo/deny-headers"],
  );
  assert.deepEqual(w.ports, [{ port: 8080, protocol: "HTTP", service: "httpbin" }]);
  assert.deepEqual(
    w.log.map((l) => l.denied),
    [false, true],
  );
  assert.deepEqual(
    state.graph.edges.map((e) => [e.source, e.target, e.mtls, e.total]),
    [["legacy/curl", "foo/httpbin", false, 2]],
  );
  assert.equal(state.report.workloads[0]?.plaintextSources[0]?.workload, "curl");
  assert.deepEqual(state.sources[0], { label: "no sidecar (plaintext)", principal: null });
  assert.equal(state.sources.length, 2, "plaintext, and the one workload with a sidecar");
});
