// buildSnapshot: pods become workloads (IP required, sidecar = istio-proxy container, owner Deployment
// name), Services get VIPs and ready endpoints, Istio resources are sorted, and the result is frozen.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { AnyResource } from "../api/meta.js";
import { istio, pod, service } from "../translate/test-support.js";
import { buildSnapshot } from "./snapshot.js";

const owned = (p: AnyResource, deployment: string): AnyResource => ({
  ...p,
  metadata: {
    ...p.metadata,
    ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: deployment }],
  },
});

test("pods with an IP are workloads; sidecar and workload name come from the pod", () => {
  const noIp = pod({ ns: "foo", name: "pending", ip: "", labels: { app: "a" } });
  const snap = buildSnapshot([
    owned(pod({ ns: "foo", name: "a-1", ip: "10.244.0.2", labels: { app: "a" }, sa: "sa-a" }), "a"),
    pod({ ns: "foo", name: "bare", ip: "10.244.0.3", labels: { app: "a" }, sidecar: false, ready: false }),
    noIp,
  ]);
  assert.deepEqual(
    snap.workloads.map((w) => [w.name, w.workloadName, w.serviceAccount, w.hasSidecar, w.ready]),
    [
      ["a-1", "a", "sa-a", true, true],
      ["bare", "bare", "default", false, false],
    ],
  );
});

test("Services: FQDN, VIP, protocol, and only ready selected pods as endpoints with resolved target ports", () => {
  const snap = buildSnapshot([
    service(
      "foo",
      "web",
      "10.96.0.5",
      [
        { name: "http-web", port: 80, targetPort: "web" },
        { name: "tcp", port: 9000 },
      ],
      { app: "web" },
    ),
    service("foo", "headless", undefined, [{ name: "grpc", port: 7070 }], { app: "web" }),
    pod({
      ns: "foo",
      name: "w1",
      ip: "10.244.0.9",
      labels: { app: "web" },
      ports: [{ name: "web", containerPort: 8080 }],
    }),
    pod({ ns: "foo", name: "w0", ip: "10.244.0.8", labels: { app: "web" }, ready: false }),
    pod({ ns: "bar", name: "other-ns", ip: "10.244.0.7", labels: { app: "web" } }),
  ]);
  const [headless, web] = snap.services;
  assert.equal(web?.fqdn, "web.foo.svc.cluster.local");
  assert.equal(web?.vip, "10.96.0.5");
  assert.equal(headless?.vip, undefined);
  assert.deepEqual(
    web?.ports.map((p) => [p.port, p.targetPort, p.targetPortName, p.protocol]),
    [
      [80, 8080, "web", "HTTP"],
      [9000, 9000, undefined, "TCP"],
    ],
  );
  assert.deepEqual(
    web?.endpoints.map((e) => [e.podName, e.targetPorts]),
    [["w1", { "80": 8080, "9000": 9000 }]],
  );
});

test("Istio resources are sorted by namespace/name and the snapshot is deeply frozen", () => {
  const input = [
    istio("AuthorizationPolicy", "foo", "b", {}),
    istio("AuthorizationPolicy", "bar", "z", {}),
    istio("AuthorizationPolicy", "foo", "a", {}),
  ];
  const snap = buildSnapshot(input, { trustDomain: "example.org" });
  assert.deepEqual(
    snap.authorizationPolicies.map((p) => `${p.metadata.namespace}/${p.metadata.name}`),
    ["bar/z", "foo/a", "foo/b"],
  );
  assert.deepEqual(snap.mesh, {
    rootNamespace: "istio-system",
    trustDomain: "example.org",
    trustDomainAliases: [],
    outboundTrafficPolicy: "ALLOW_ANY",
    pathNormalization: "BASE",
    accessLogFile: "/dev/stdout",
    accessLogEncoding: "TEXT",
    accessLogFormat: "",
  });
  assert.ok(Object.isFrozen(snap.authorizationPolicies[0]?.metadata));
  assert.ok(!Object.isFrozen(input[0]), "the caller's resources are not frozen");
});
