import assert from "node:assert/strict";
import { test } from "node:test";
import type { ProxyStatusRow } from "./status.js";
import { syncState } from "./status.js";
import { formatProxyStatus } from "./status-format.js";

function row(podName: string, o: Partial<ProxyStatusRow>): ProxyStatusRow {
  const r = {
    id: `sidecar~${podName}`,
    podName,
    namespace: "foo",
    serviceAccount: "default",
    cluster: "Kubernetes",
    connected: true,
    connectedSince: "2026-01-01T00:00:00.000Z",
    ...o,
  };
  return { ...r, state: syncState(r) };
}

test("states: synced, not sent, stale, NACK, disconnected", () => {
  assert.equal(row("a", { versionSent: "v1", versionAcked: "v1" }).state, "SYNCED");
  assert.equal(row("a", {}).state, "NOT SENT");
  assert.equal(row("a", { versionSent: "v2", versionAcked: "v1" }).state, "STALE");
  const nack = { version: "v2", errors: ["x"], at: "2026-01-01T00:00:00.000Z" };
  assert.equal(row("a", { versionSent: "v2", versionAcked: "v1", lastNack: nack }).state, "NACK");
  assert.equal(row("a", { versionSent: "v3", versionAcked: "v1", lastNack: nack }).state, "STALE");
  assert.equal(row("a", { connected: false, versionSent: "v1", versionAcked: "v1" }).state, "DISCONNECTED");
});

test("the table reads like istioctl proxy-status, NACK errors listed below it", () => {
  const out = formatProxyStatus([
    row("details-v1", { versionSent: "7f3a", versionAcked: "7f3a", lastPushLatencyMs: 4.25 }),
    row("httpbin", {
      versionSent: "9c01",
      versionAcked: "7f3a",
      lastPushLatencyMs: 1520,
      lastNack: { version: "9c01", errors: ['outbound.defaultCluster: cluster "X" is not defined'], at: "t" },
    }),
    row("sleep", {}),
  ]);
  assert.equal(
    out,
    [
      "NAME             CLUSTER      CONFIG     VERSION            LATENCY",
      "details-v1.foo   Kubernetes   SYNCED     7f3a               4.3ms",
      "httpbin.foo      Kubernetes   NACK       7f3a (sent 9c01)   1.5s",
      "sleep.foo        Kubernetes   NOT SENT   -                  -",
      "",
      "httpbin.foo rejected 9c01:",
      '  outbound.defaultCluster: cluster "X" is not defined',
      "",
    ].join("\n"),
  );
  assert.equal(formatProxyStatus([]), "No proxies are connected to the control plane.\n");
});
