// Istio proxy annotations are never accepted silently: on apply (validateDocument) and in analyze (from
// files and from the store), ones Shoal ignores are warnings and a proxy.istio.io/config it cannot read is
// an error naming the resource, the annotation and the reason.
import assert from "node:assert/strict";
import { test } from "node:test";
import { analyzeDocuments, analyzeStored } from "../analyze/analyze.js";
import { formatMessage } from "../analyze/message.js";
import { formatDiagnostic } from "./diagnostic.js";
import { parseManifests } from "./load.js";
import type { AnyResource } from "./meta.js";
import { NOT_IMPLEMENTED_CODE } from "./not-implemented.js";
import { proxyAnnotationFindings, readProxyConfigAnnotation } from "./proxy-annotations.js";
import { validateDocument } from "./validate.js";

const podYaml = (annotations: string, gateway = false) => `apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: foo
  annotations:
${gateway ? "    inject.istio.io/templates: gateway\n" : ""}${annotations}
spec:
  containers: [{name: web, image: httpbin}]
`;

function validate(yaml: string) {
  const [doc] = parseManifests(yaml, "t.yaml").documents;
  const r = validateDocument(doc!);
  const fmt = (d: (typeof r.errors)[number]) =>
    formatDiagnostic({ ...d, source: undefined, line: undefined });
  return { stored: r.resource !== undefined, errors: r.errors.map(fmt), warnings: r.warnings.map(fmt), r };
}

test("annotations Shoal acts on get no word", () => {
  const v = validate(
    podYaml(
      `    sidecar.istio.io/inject: "true"
    sidecar.istio.io/interceptionMode: REDIRECT
    traffic.sidecar.istio.io/excludeOutboundPorts: "3306"
    traffic.sidecar.istio.io/includeInboundPorts: "*"
    proxy.istio.io/config: '{"concurrency": 2, "holdApplicationUntilProxyStarts": true}'
    example.com/other: anything`,
      true,
    ),
  );
  assert.deepEqual([...v.errors, ...v.warnings], []);
  assert.ok(v.stored);
});

test("proxy annotations Shoal does not act on are warned about, by name", () => {
  const v = validate(
    podYaml(`    sidecar.istio.io/proxyCPU: 100m
    proxy.istio.io/overrides: "{}"
    traffic.sidecar.istio.io/kubevirtInterfaces: net1`),
  );
  assert.deepEqual(v.errors, []);
  assert.ok(v.stored, "a warning does not stop the apply");
  assert.ok(v.r.warnings.every((w) => w.code === NOT_IMPLEMENTED_CODE));
  for (const key of [
    "sidecar.istio.io/proxyCPU",
    "proxy.istio.io/overrides",
    "traffic.sidecar.istio.io/kubevirtInterfaces",
  ])
    assert.ok(
      v.warnings.some(
        (w) => w.startsWith("Pod foo/web:") && w.includes(`does not act on the annotation ${key}`),
      ),
      key,
    );
  assert.equal(v.warnings.length, 3);
  assert.match(v.warnings[0]!, /proxyCPU; ignored \(the local cluster sets no CPU or memory/);
});

test("proxy.istio.io/config fields other than concurrency are warned about, each by name", () => {
  const v = validate(
    podYaml(
      `    proxy.istio.io/config: |
      concurrency: 2
      holdApplicationUntilProxyStarts: false
      terminationDrainDuration: 30s
      proxyMetadata: {A: b}`,
      true,
    ),
  );
  assert.deepEqual(v.errors, []);
  assert.equal(v.warnings.length, 3);
  assert.match(v.warnings.join("\n"), /holdApplicationUntilProxyStarts: false is not honoured/);
  assert.match(v.warnings.join("\n"), /terminationDrainDuration: not acted on/);
  assert.match(v.warnings.join("\n"), /proxyMetadata: not acted on/);
});

test("concurrency on a sidecar pod is said to apply to gateways only", () => {
  const v = validate(podYaml(`    proxy.istio.io/config: "concurrency: 2"`));
  assert.deepEqual(v.errors, []);
  assert.equal(v.warnings.length, 1);
  assert.match(v.warnings[0]!, /concurrency applies to gateways only; a sidecar is one process/);
});

test("a malformed proxy.istio.io/config is an error naming the resource, the annotation and the reason", () => {
  const cases: Array<[string, RegExp]> = [
    [`'{"concurrency": 2'`, /not YAML or JSON/],
    [`'[1, 2]'`, /must be a mapping/],
    [`'{"concurrency": -1}'`, /concurrency: -1 is not a non-negative integer/],
    [`'concurrency: two'`, /concurrency: "two" is not a non-negative integer/],
    [`'concurrency: 1.5'`, /concurrency: 1.5 is not a non-negative integer/],
  ];
  for (const [value, reason] of cases) {
    const v = validate(podYaml(`    proxy.istio.io/config: ${value}`, true));
    assert.equal(v.stored, false, `${value} is refused`);
    assert.equal(v.errors.length, 1, value);
    assert.match(v.errors[0]!, /^Pod foo\/web: .*annotation proxy\.istio\.io\/config: /, value);
    assert.match(v.errors[0]!, reason, value);
  }
});

test("a Deployment's pod template is checked the same way", () => {
  const v = validate(`apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: foo}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations:
        sidecar.istio.io/logLevel: debug
        proxy.istio.io/config: "concurrency: x"
    spec:
      containers: [{name: web, image: httpbin}]
`);
  assert.equal(v.errors.length, 1);
  assert.match(v.errors[0]!, /^Deployment foo\/web: spec\.template\.metadata\.annotations\./);
  assert.equal(v.warnings.length, 1);
  assert.match(v.warnings[0]!, /sidecar\.istio\.io\/logLevel/);
});

test("analyze reports both, from files and from the store", () => {
  const yaml = podYaml(
    `    sidecar.istio.io/proxyMemory: 64Mi
    proxy.istio.io/config: "{concurrency: nope}"`,
    true,
  );
  const { documents, errors } = parseManifests(yaml, "t.yaml");
  const fromFiles = analyzeDocuments(documents, errors).messages.map(formatMessage);
  assert.equal(fromFiles.length, 2);
  assert.match(
    fromFiles[0]!,
    /^Error \[IST0106\] \(Pod foo\/web.*proxy\.istio\.io\/config.*not a non-negative integer/,
  );
  assert.match(fromFiles[1]!, /^Warning \[SHOAL0002\] \(Pod foo\/web.*sidecar\.istio\.io\/proxyMemory/);

  // A stored pod (e.g. stored before the check existed) is reported by `analyze` on the live cluster too.
  const stored = parseManifests(yaml, "t.yaml").documents[0]!.object as AnyResource;
  const live = analyzeStored([stored]).map(formatMessage);
  assert.equal(live.length, 2);
  assert.match(live[0]!, /^Error \[IST0106\].*not a non-negative integer/);
  assert.match(live[1]!, /^Warning \[SHOAL0002\].*proxyMemory/);
});

test("other kinds and resources without annotations have no findings", () => {
  const svc = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "s", annotations: { "sidecar.istio.io/x": "1" } },
  };
  assert.deepEqual(proxyAnnotationFindings(svc as AnyResource), []);
  assert.deepEqual(readProxyConfigAnnotation(""), { ignored: [] });
});

test("the tunnel label turns tunnels on only with http; any other value is warned about", () => {
  const pod = (value: string) => `apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: foo
  labels:
    networking.istio.io/tunnel: "${value}"
spec:
  containers: [{name: web, image: httpbin}]
`;
  assert.deepEqual(validate(pod("http")).warnings, []);
  const v = validate(pod("true"));
  assert.equal(v.stored, true, "a warning does not refuse the write");
  assert.equal(v.warnings.length, 1);
  assert.match(
    v.warnings[0] ?? "",
    /metadata\.labels\.networking\.istio\.io\/tunnel: not implemented: "true" is not a tunnel protocol; only "http"/,
  );
});
