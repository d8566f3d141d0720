// DestinationRule traffic policy → cluster settings: zero limits mean unset, Envoy's outlier defaults,
// and no settings without a rule.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { DestinationRule } from "../api/istio/destination-rule.js";
import { clusterPolicy } from "./traffic-policy.js";

const dr = (spec: Record<string, unknown>): DestinationRule =>
  ({
    apiVersion: "networking.istio.io/v1",
    kind: "DestinationRule",
    metadata: { name: "d", namespace: "ns" },
    spec: { host: "h", ...spec },
  }) as DestinationRule;

test("clusterPolicy: nothing without a rule; zero limits are unset", () => {
  assert.deepEqual(clusterPolicy(undefined, 80, undefined), {});
  const p = clusterPolicy(
    dr({
      trafficPolicy: {
        connectionPool: { tcp: { maxConnections: 0 }, http: { http2MaxRequests: 5, maxRetries: 0 } },
      },
    }),
    80,
    undefined,
  );
  assert.deepEqual(p, { connectionPool: { maxRequests: 5 } });
});

test("clusterPolicy: outlier detection gets Envoy's defaults for unset fields; consecutiveErrors counts gateway errors", () => {
  const p = clusterPolicy(
    dr({ trafficPolicy: { outlierDetection: { consecutiveErrors: 3 } } }),
    80,
    undefined,
  );
  assert.deepEqual(p.outlierDetection, {
    consecutive5xx: 5,
    consecutiveGatewayErrors: 3,
    intervalMs: 10_000,
    baseEjectionMs: 30_000,
    maxEjectionPercent: 10,
    minHealthPercent: 0,
  });
});
