// Reading meshConfig: every error names its field, fields Shoal does not act on are warned about by
// name, and the sources (IstioOperator files, --set, the istio ConfigMap) merge as istioctl's do.
import assert from "node:assert/strict";
import { test } from "node:test";
import { readMeshConfig } from "./mesh-config.js";
import { formatMeshYaml, meshConfigMap, meshFromResources, meshOverlay } from "./sources.js";

test("defaults: Istio's, with the access log on stdout in TEXT", () => {
  const r = readMeshConfig(undefined);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.warnings, []);
  assert.equal(r.mesh.rootNamespace, "istio-system");
  assert.equal(r.mesh.trustDomain, "cluster.local");
  assert.equal(r.mesh.outboundTrafficPolicy, "ALLOW_ANY");
  assert.equal(r.mesh.pathNormalization, "BASE");
  assert.equal(r.mesh.accessLogFile, "/dev/stdout");
  assert.equal(r.mesh.accessLogEncoding, "TEXT");
});

test("an unknown normalization is an error naming the field and the allowed values", () => {
  const r = readMeshConfig({ pathNormalization: { normalization: "FOO" } });
  assert.deepEqual(r.errors, [
    'meshConfig.pathNormalization.normalization: "FOO" is not one of NONE, BASE, MERGE_SLASHES, DECODE_AND_MERGE_SLASHES',
  ]);
});

test("bad values of each checked field name the field", () => {
  const r = readMeshConfig({
    outboundTrafficPolicy: { mode: "OPEN" },
    accessLogEncoding: "XML",
    trustDomain: "Bad Domain",
    rootNamespace: "Root_NS",
    trustDomainAliases: ["ok.td", 3],
    defaultConfig: { concurrency: -1, drainDuration: "soon", holdApplicationUntilProxyStarts: "yes" },
  });
  const fields = r.errors.map((e) => e.slice(0, e.indexOf(":")));
  assert.deepEqual(fields.sort(), [
    "meshConfig.accessLogEncoding",
    "meshConfig.defaultConfig.concurrency",
    "meshConfig.defaultConfig.drainDuration",
    "meshConfig.defaultConfig.holdApplicationUntilProxyStarts",
    "meshConfig.outboundTrafficPolicy.mode",
    "meshConfig.rootNamespace",
    "meshConfig.trustDomain",
    "meshConfig.trustDomainAliases[1]",
  ]);
});

test("fields not acted on are warned about by name, never accepted silently", () => {
  const r = readMeshConfig({
    enableTracing: true,
    noSuchField: 1,
    accessLogFile: "/var/log/envoy.log",
    defaultConfig: { concurrency: 2, proxyMetadata: { A: "b" }, madeUp: true },
    accessLogFormat: "%START_TIME% %DYNAMIC_METADATA(x)%",
  });
  assert.deepEqual(r.errors, []);
  const named = r.warnings.map((w) => w.slice(0, w.indexOf(":")));
  assert.deepEqual(named.sort(), [
    "meshConfig.accessLogFile",
    "meshConfig.accessLogFormat",
    "meshConfig.defaultConfig.concurrency",
    "meshConfig.defaultConfig.madeUp",
    "meshConfig.defaultConfig.proxyMetadata",
    "meshConfig.enableTracing",
    "meshConfig.noSuchField",
  ]);
  assert.match(
    r.warnings.find((w) => w.includes("accessLogFormat"))!,
    /%DYNAMIC_METADATA\(x\)%/,
  );
});

test("defaultConfig.concurrency is said to apply to gateways only, not to be ignored", () => {
  const two = readMeshConfig({ defaultConfig: { concurrency: 2 } });
  assert.deepEqual(two.errors, []);
  assert.deepEqual(two.warnings, [
    "meshConfig.defaultConfig.concurrency: applies to gateways only (2 worker processes); sidecars stay one process",
  ]);
  const zero = readMeshConfig({ defaultConfig: { concurrency: 0 } });
  assert.deepEqual(zero.warnings, [
    "meshConfig.defaultConfig.concurrency: applies to gateways only (one worker process per CPU); sidecars stay one process",
  ]);
  assert.ok(!two.warnings.some((w) => /not acted on/.test(w)));
  assert.deepEqual(two.document["defaultConfig"], { concurrency: 2 }, "the value is kept");
});

test('accessLogFile "" turns the access log off; a JSON format must be a JSON object', () => {
  assert.equal(readMeshConfig({ accessLogFile: "" }).mesh.accessLogFile, "");
  const bad = readMeshConfig({ accessLogEncoding: "JSON", accessLogFormat: "%START_TIME%" });
  assert.match(bad.errors[0]!, /^meshConfig\.accessLogFormat: /);
});

test("--set meshConfig.* paths, IstioOperator files and ConfigMaps merge in order", () => {
  const iop = `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  profile: demo
  meshConfig:
    accessLogEncoding: JSON
    outboundTrafficPolicy:
      mode: REGISTRY_ONLY
`;
  const o = meshOverlay(
    [{ text: iop, source: "iop.yaml" }],
    [
      "meshConfig.pathNormalization.normalization=MERGE_SLASHES",
      "meshConfig.accessLogFile=",
      "meshConfig.trustDomainAliases[0]=old.td",
    ],
  );
  assert.deepEqual(o.errors, []);
  assert.deepEqual(o.warnings, [
    "iop.yaml: spec.profile: not read when the cluster is set up (`shoal install -f` reads it)",
  ]);
  const r = readMeshConfig(o.document);
  assert.deepEqual(r.errors, []);
  assert.equal(r.mesh.accessLogEncoding, "JSON");
  assert.equal(r.mesh.outboundTrafficPolicy, "REGISTRY_ONLY");
  assert.equal(r.mesh.pathNormalization, "MERGE_SLASHES");
  assert.equal(r.mesh.accessLogFile, "");
  assert.deepEqual(r.mesh.trustDomainAliases, ["old.td"]);
  const wrong = meshOverlay([], ["values.global.proxy=x"]);
  assert.match(wrong.errors[0]!, /only meshConfig\.\* is set when the cluster is set up/);
});

test("the istio ConfigMap round-trips: written with the defaults filled in, read back the same", () => {
  const r = readMeshConfig({ trustDomain: "example.org", pathNormalization: { normalization: "NONE" } });
  const cm = meshConfigMap(r.document);
  assert.equal(cm.metadata.namespace, "istio-system");
  assert.equal(cm.metadata.name, "istio");
  const back = meshFromResources([cm]);
  assert.equal(back.found, true);
  assert.deepEqual(back.mesh, r.mesh);
  assert.match(formatMeshYaml(r.document), /^trustDomain: example\.org$/m);
  assert.match(formatMeshYaml(r.document), /^pathNormalization:\n {2}normalization: NONE$/m);
  // A ConfigMap elsewhere is not the mesh config.
  assert.equal(
    meshFromResources([{ ...cm, metadata: { name: "istio", namespace: "default" } }]).found,
    false,
  );
});

test("holdApplicationUntilProxyStarts: true is what Shoal's pods do; false is warned about", () => {
  const held = readMeshConfig({ defaultConfig: { holdApplicationUntilProxyStarts: true } });
  assert.deepEqual([held.errors, held.warnings], [[], []]);
  const notHeld = readMeshConfig({ defaultConfig: { holdApplicationUntilProxyStarts: false } });
  assert.deepEqual(notHeld.errors, []);
  assert.match(notHeld.warnings.join("\n"), /holdApplicationUntilProxyStarts: false is not honoured/);
});
