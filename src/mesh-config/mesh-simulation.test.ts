// Each mesh setting, end to end without sockets: the `istio` ConfigMap → snapshot → the proxy's
// ProxyConfig → the proxy's own evaluator, and `x authz check` on the same manifests deciding alike.
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkAuthz, findWorkload } from "../analyze/authz-check.js";
import { buildInventory } from "../analyze/inventory.js";
import type { AnyResource } from "../api/meta.js";
import { buildSnapshot } from "../controlplane/snapshot.js";
import { evaluate } from "../policy/authz-evaluate.js";
import { loadAuthz } from "../policy/authz-load.js";
import { build } from "../translate/build.js";
import { istio, pod, service } from "../translate/test-support.js";
import { readMeshConfig } from "./mesh-config.js";
import type { MeshDocument } from "./mesh-config.js";
import { meshConfigMap } from "./sources.js";

const APP = { ns: "foo", name: "app", ip: "10.244.0.5", labels: { app: "app" }, sa: "app" };
const NODE = "sidecar~10.244.0.5~app.foo~foo.svc.cluster.local";
const CURL_NODE = "sidecar~10.244.0.6~curl.foo~foo.svc.cluster.local";

function cluster(mesh: MeshDocument | undefined, extra: AnyResource[] = []): AnyResource[] {
  const base = [
    pod({ ...APP, ports: [{ containerPort: 8080 }] }),
    pod({ ns: "foo", name: "curl", ip: "10.244.0.6", labels: { app: "curl" }, sa: "curl" }),
    service("foo", "app", "10.96.0.10", [{ name: "http", port: 8080 }]),
    ...extra,
  ];
  return mesh ? [...base, meshConfigMap(readMeshConfig(mesh).document) as AnyResource] : base;
}

const allowExact = (path: string, ns = "foo") =>
  istio("AuthorizationPolicy", ns, "exact", { rules: [{ to: [{ operation: { paths: [path] } }] }] });

/** The proxy's decision: its ProxyConfig's compiled authz, loaded and evaluated as the proxy does. */
function proxyDecides(resources: AnyResource[], path: string, principal?: string): string {
  const { config } = build(buildSnapshot(resources), NODE);
  const d = evaluate(loadAuthz(config.inbound.authz), {
    destination: { namespace: "foo", labels: APP.labels, port: 8080, protocol: "http" },
    source: { principal },
    http: { method: "GET", path, host: "app", headers: {} },
  });
  return d.action;
}

function whatIfDecides(resources: AnyResource[], path: string, principal?: string): string {
  const inv = buildInventory(resources);
  const w = findWorkload(inv, { pod: "app", namespace: "foo" });
  assert.ok(w);
  return checkAuthz(inv, w, {
    target: { pod: "app", namespace: "foo" },
    port: 8080,
    protocol: "http",
    principal,
    http: { method: "GET", path },
  }).decision;
}

test("pathNormalization: MERGE_SLASHES lets an exact ALLOW for /a/b match /a//b; BASE does not", () => {
  for (const [mesh, expected] of [
    [undefined, "DENY"],
    [{ pathNormalization: { normalization: "BASE" } }, "DENY"],
    [{ pathNormalization: { normalization: "MERGE_SLASHES" } }, "ALLOW"],
    [{ pathNormalization: { normalization: "DECODE_AND_MERGE_SLASHES" } }, "ALLOW"],
  ] as const) {
    const r = cluster(mesh, [allowExact("/a/b")]);
    const label = JSON.stringify(mesh ?? "default");
    assert.equal(proxyDecides(r, "/a//b"), expected, `proxy, ${label}`);
    assert.equal(whatIfDecides(r, "/a//b"), expected, `what-if, ${label}`);
    assert.equal(proxyDecides(r, "/a/b"), "ALLOW");
  }
  // The outbound side normalizes by the same setting (absent from the config = BASE).
  const merged = build(
    buildSnapshot(cluster({ pathNormalization: { normalization: "MERGE_SLASHES" } })),
    NODE,
  );
  assert.equal(merged.config.mesh.pathNormalization, "MERGE_SLASHES");
  assert.equal(merged.config.inbound.authz.pathNormalization, "MERGE_SLASHES");
  assert.equal(build(buildSnapshot(cluster(undefined)), NODE).config.mesh.pathNormalization, undefined);
});

test("outboundTrafficPolicy REGISTRY_ONLY mesh-wide: unknown hosts go to the BlackHoleCluster; a Sidecar's own mode wins", () => {
  const open = build(buildSnapshot(cluster(undefined)), CURL_NODE).config;
  assert.equal(open.outbound.defaultCluster, "PassthroughCluster");
  const closed = build(
    buildSnapshot(cluster({ outboundTrafficPolicy: { mode: "REGISTRY_ONLY" } })),
    CURL_NODE,
  ).config;
  assert.equal(closed.outbound.defaultCluster, "BlackHoleCluster");
  assert.equal(closed.mesh.outboundTrafficPolicy, "REGISTRY_ONLY");
  const sidecar = istio("Sidecar", "foo", "default", {
    egress: [{ hosts: ["./*"] }],
    outboundTrafficPolicy: { mode: "ALLOW_ANY" },
  });
  const own = build(
    buildSnapshot(cluster({ outboundTrafficPolicy: { mode: "REGISTRY_ONLY" } }, [sidecar])),
    CURL_NODE,
  ).config;
  assert.equal(own.outbound.defaultCluster, "PassthroughCluster");
});

test("rootNamespace decides which namespace's policies are mesh-wide", () => {
  const denyAllIn = (ns: string) =>
    istio("AuthorizationPolicy", ns, "deny-all", { action: "DENY", rules: [{}] });
  const withNs = (ns: string): AnyResource => ({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: ns },
  });
  const extra = [withNs("mesh-root"), denyAllIn("mesh-root"), denyAllIn("istio-system")];
  // Default root: the istio-system policy applies to foo's workloads; mesh-root's does not.
  const def = build(buildSnapshot(cluster(undefined, extra)), NODE).config.inbound.authz;
  assert.deepEqual(
    def.http.policies.map((p) => p.id),
    ["istio-system/deny-all"],
  );
  const moved = build(buildSnapshot(cluster({ rootNamespace: "mesh-root" }, extra)), NODE).config.inbound
    .authz;
  assert.deepEqual(
    moved.http.policies.map((p) => p.id),
    ["mesh-root/deny-all"],
  );
  const r = cluster({ rootNamespace: "mesh-root" }, extra);
  assert.equal(proxyDecides(r, "/"), "DENY");
  assert.equal(whatIfDecides(r, "/"), "DENY");
});

test("trustDomain: the ids the proxies expect carry it, and policy principals are matched in it", () => {
  const td = build(buildSnapshot(cluster({ trustDomain: "example.org" })), CURL_NODE).config;
  assert.equal(td.mesh.trustDomain, "example.org");
  const sans = td.clusters.flatMap((c) =>
    c.endpoints.flatMap((e) => (e.tls && "subjectAltNames" in e.tls ? (e.tls.subjectAltNames ?? []) : [])),
  );
  assert.ok(
    sans.length > 0 && sans.every((s) => s.startsWith("spiffe://example.org/")),
    JSON.stringify(sans),
  );

  const allowCurl = (principal: string) =>
    istio("AuthorizationPolicy", "foo", "from-curl", {
      rules: [{ from: [{ source: { principals: [principal] } }] }],
    });
  const r = (mesh: MeshDocument, principal: string) => cluster(mesh, [allowCurl(principal)]);
  // The policy names the new domain: the new id matches, the old does not.
  assert.equal(
    proxyDecides(
      r({ trustDomain: "example.org" }, "example.org/ns/foo/sa/curl"),
      "/",
      "example.org/ns/foo/sa/curl",
    ),
    "ALLOW",
  );
  assert.equal(
    proxyDecides(
      r({ trustDomain: "example.org" }, "example.org/ns/foo/sa/curl"),
      "/",
      "cluster.local/ns/foo/sa/curl",
    ),
    "DENY",
  );
  // Istio: `cluster.local` in a policy stands for the local trust domain.
  assert.equal(
    proxyDecides(
      r({ trustDomain: "example.org" }, "cluster.local/ns/foo/sa/curl"),
      "/",
      "example.org/ns/foo/sa/curl",
    ),
    "ALLOW",
  );
  // trustDomainAliases: a policy written for the old domain matches peers of the new one, and back.
  const migrating = { trustDomain: "new.td", trustDomainAliases: ["old.td"] };
  for (const peer of ["new.td/ns/foo/sa/curl", "old.td/ns/foo/sa/curl"]) {
    assert.equal(proxyDecides(r(migrating, "old.td/ns/foo/sa/curl"), "/", peer), "ALLOW", peer);
    assert.equal(whatIfDecides(r(migrating, "old.td/ns/foo/sa/curl"), "/", peer), "ALLOW", peer);
  }
  // A domain outside the bundle is matched only as written.
  assert.equal(proxyDecides(r(migrating, "other.td/ns/foo/sa/curl"), "/", "new.td/ns/foo/sa/curl"), "DENY");
});

test("access log settings reach the ProxyConfig only when they differ from the default", () => {
  const plain = build(buildSnapshot(cluster(undefined)), NODE).config;
  assert.equal(plain.mesh.accessLog, undefined);
  const json = build(buildSnapshot(cluster({ accessLogEncoding: "JSON" })), NODE).config;
  assert.deepEqual(json.mesh.accessLog, { file: "/dev/stdout", encoding: "JSON" });
  const off = build(buildSnapshot(cluster({ accessLogFile: "" })), NODE).config;
  assert.deepEqual(off.mesh.accessLog, { file: "", encoding: "TEXT" });
});
