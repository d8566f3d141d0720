import assert from "node:assert/strict";
import { test } from "node:test";
import { parse } from "yaml";
import { parseManifests } from "../api/load.js";
import { validateDocument } from "../api/validate.js";
import { generate, readOperatorTexts, toYaml } from "./generate.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The tutorial's IstioOperator ("install the egress gateway"), REVISION filled in. */
const TUTORIAL_IOP = `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata:
  name: egressgateway-operator
  annotations:
    config.kubernetes.io/local-config: "true"
spec:
  profile: empty
  revision: asm-1
  components:
    egressGateways:
    - name: istio-egressgateway
      namespace: istio-egress
      enabled: true
  values:
    gateways:
      istio-egressgateway:
        injectionTemplate: gateway
        tolerations:
          - key: "dedicated"
            operator: "Equal"
            value: "gateway"
        nodeSelector:
          cloud.google.com/gke-nodepool: "gateway"
`;

const of = (objects: Json[], kind: string) => objects.filter((o) => o["kind"] === kind);

test("profiles: which gateways each one installs, and where", () => {
  const cases: Array<[string[], string[]]> = [
    [[], ["istio-system/istio-ingressgateway"]],
    [["profile=default"], ["istio-system/istio-ingressgateway"]],
    [["profile=demo"], ["istio-system/istio-ingressgateway", "istio-system/istio-egressgateway"]],
    [["profile=minimal"], []],
    [["profile=empty"], []],
    [
      ["profile=demo", "components.egressGateways[name:istio-egressgateway].enabled=false"],
      ["istio-system/istio-ingressgateway"],
    ],
  ];
  for (const [sets, want] of cases) {
    const g = generate(undefined, sets);
    assert.deepEqual(g.errors, [], sets.join(" "));
    const deployments = g.components.flatMap((c) => of(c.objects, "Deployment"));
    assert.deepEqual(
      deployments.map((d) => `${d["metadata"].namespace}/${d["metadata"].name}`),
      want,
      sets.join(" "),
    );
  }
  assert.match(generate(undefined, ["profile=ambient-x"]).errors.join(), /profile "ambient-x" is not one of/);
});

test("the ingress gateway as Istio's chart renders it: labels, ports, gateway injection template", () => {
  const g = generate(undefined, []);
  const [c] = g.components;
  assert.equal(c!.component, "IngressGateways");
  assert.equal(c!.file, "Base/Pilot/IngressGateways/IngressGateways.yaml");
  const [sa] = of(c!.objects, "ServiceAccount");
  const [dep] = of(c!.objects, "Deployment");
  const [svc] = of(c!.objects, "Service");
  assert.equal(sa!["metadata"].name, "istio-ingressgateway-service-account");
  assert.equal(svc!["spec"].type, "LoadBalancer");
  assert.deepEqual(svc!["spec"].selector, { app: "istio-ingressgateway", istio: "ingressgateway" });
  assert.deepEqual(
    svc!["spec"].ports.map((p: Json) => `${p["name"]}:${p["port"]}->${p["targetPort"]}`),
    ["status-port:15021->15021", "http2:80->8080", "https:443->8443"],
  );
  const tpl = dep!["spec"].template;
  assert.equal(tpl.metadata.annotations["inject.istio.io/templates"], "gateway");
  assert.equal(tpl.metadata.labels["istio"], "ingressgateway");
  assert.equal(tpl.metadata.labels["sidecar.istio.io/inject"], "true");
  assert.equal(tpl.spec.serviceAccountName, "istio-ingressgateway-service-account");
  const [container] = tpl.spec.containers;
  assert.deepEqual([container.name, container.image], ["istio-proxy", "auto"]);
  assert.deepEqual(
    container.ports.map((p: Json) => p["containerPort"]),
    [15021, 8080, 8443, 15090],
  );
  assert.deepEqual(dep!["spec"].selector.matchLabels, svc!["spec"].selector);
});

test("the tutorial's IstioOperator: its namespace, revision, tolerations and nodeSelector are carried", () => {
  const { iop, errors } = readOperatorTexts([{ text: TUTORIAL_IOP, source: "egressgateway-operator.yaml" }]);
  assert.deepEqual(errors, []);
  const g = generate(iop);
  assert.deepEqual([g.errors, g.warnings], [[], []]);
  assert.deepEqual(
    g.components.map((c) => c.file),
    ["Base/Pilot/EgressGateways/EgressGateways.yaml"],
  );
  const objects = g.components[0]!.objects as Json[];
  for (const o of objects) assert.equal(o["metadata"].namespace, "istio-egress", o["kind"]);
  const [dep] = of(objects, "Deployment");
  const [svc] = of(objects, "Service");
  const spec = dep!["spec"].template.spec;
  assert.deepEqual(spec.tolerations, [{ key: "dedicated", operator: "Equal", value: "gateway" }]);
  assert.deepEqual(spec.nodeSelector, { "cloud.google.com/gke-nodepool": "gateway" });
  assert.deepEqual(
    spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms,
    [{ matchExpressions: [{ key: "cloud.google.com/gke-nodepool", operator: "In", values: ["gateway"] }] }],
  );
  assert.equal(dep!["spec"].template.metadata.labels["istio"], "egressgateway");
  assert.equal(dep!["spec"].template.metadata.labels["istio.io/rev"], "asm-1");
  assert.equal(svc!["spec"].type, "ClusterIP");
  assert.deepEqual(
    svc!["spec"].ports.map((p: Json) => `${p["port"]}->${p["targetPort"]}`),
    ["80->8080", "443->8443"],
  );
});

test("component label, k8s overrides and chart values reach the objects", () => {
  const iop = {
    apiVersion: "install.istio.io/v1alpha1",
    kind: "IstioOperator",
    spec: {
      components: {
        ingressGateways: [
          {
            name: "istio-ingressgateway",
            enabled: true,
            label: { istio: "my-ingress", team: "edge" },
            k8s: {
              service: { type: "NodePort", ports: [{ name: "http2", port: 8081, targetPort: 9081 }] },
              replicaCount: 2,
              podAnnotations: { a: "b" },
              env: [{ name: "X", value: "1" }],
            },
          },
        ],
      },
      values: { gateways: { "istio-ingressgateway": { serviceAnnotations: { s: "t" } } } },
    },
  };
  const objects = generate(iop).components[0]!.objects;
  const [dep] = of(objects, "Deployment");
  const [svc] = of(objects, "Service");
  assert.deepEqual(svc!["spec"].selector, { app: "istio-ingressgateway", istio: "my-ingress", team: "edge" });
  assert.equal(svc!["spec"].type, "NodePort");
  assert.deepEqual(svc!["spec"].ports, [{ name: "http2", port: 8081, targetPort: 9081, protocol: "TCP" }]);
  assert.deepEqual(svc!["metadata"].annotations, { s: "t" });
  assert.equal(dep!["spec"].replicas, 2);
  assert.equal(dep!["spec"].template.metadata.annotations["a"], "b");
  assert.deepEqual(dep!["spec"].template.spec.containers[0].env, [{ name: "X", value: "1" }]);
  assert.deepEqual(
    dep!["spec"].template.spec.containers[0].ports.map((p: Json) => p["containerPort"]),
    [9081, 15090],
  );
});

test("fields shoal does not act on are named in warnings, never dropped silently", () => {
  const iop = {
    apiVersion: "install.istio.io/v1alpha1",
    kind: "IstioOperator",
    spec: {
      hub: "gcr.io/x",
      meshConfig: { accessLogFile: "/dev/stdout", defaultConfig: { concurrency: 2 } },
      components: {
        pilot: { enabled: true, k8s: { resources: {} } },
        cni: { enabled: false },
        egressGateways: [{ name: "extra-egress", namespace: "x" }],
        ingressGateways: [{ name: "istio-ingressgateway", k8s: { hpaSpec: {} }, tag: "1.2" }],
      },
      values: {
        global: { proxy: {} },
        gateways: { "istio-ingressgateway": { autoscaleEnabled: false, injectionTemplate: "other" } },
      },
    },
  };
  const w = generate(iop).warnings.join("\n");
  for (const want of [
    "spec.hub:",
    "spec.meshConfig.defaultConfig.concurrency:",
    "spec.components.pilot.k8s: the control plane is shoal's daemon",
    'spec.components.egressGateways[0]: gateway extra-egress has no "enabled: true"',
    "spec.components.ingressGateways[0].tag:",
    "gateway istio-ingressgateway k8s.hpaSpec:",
    "spec.values.global:",
    "spec.values.gateways.istio-ingressgateway.autoscaleEnabled:",
    'injectionTemplate: "other" is not implemented',
  ])
    assert.ok(w.includes(want), `missing "${want}" in:\n${w}`);
  assert.doesNotMatch(w, /cni/);
});

test("bad input: wrong kind, wrong apiVersion, a malformed --set are errors", () => {
  assert.match(generate({ kind: "Deployment" }).errors.join(), /expected kind IstioOperator/);
  assert.match(
    generate({ apiVersion: "v1", kind: "IstioOperator", spec: {} }).errors.join(),
    /apiVersion "v1"/,
  );
  assert.match(generate(undefined, ["nonsense"]).errors.join(), /PATH=VALUE/);
});

test("every generated object passes Shoal's own validation", () => {
  const g = generate(undefined, ["profile=demo"]);
  const text = toYaml(g.components.flatMap((c) => c.objects));
  const parsed = parseManifests(text, "generated");
  assert.deepEqual(parsed.errors, []);
  assert.equal(parsed.documents.length, 6);
  for (const d of parsed.documents) {
    const r = validateDocument(d);
    assert.deepEqual(r.errors, [], JSON.stringify(d.object));
  }
});

test("meshConfig becomes the mesh's istio ConfigMap (Pilot), checked field by field", () => {
  const iop = {
    apiVersion: "install.istio.io/v1alpha1",
    kind: "IstioOperator",
    spec: { profile: "minimal", meshConfig: { pathNormalization: { normalization: "MERGE_SLASHES" } } },
  };
  const g = generate(iop, ["meshConfig.accessLogEncoding=JSON"]);
  assert.deepEqual(g.errors, []);
  assert.deepEqual(
    g.components.map((c) => c.file),
    ["Base/Pilot/Pilot.yaml"],
  );
  const [cm] = g.components[0]!.objects as Json[];
  assert.equal(cm!["kind"], "ConfigMap");
  assert.deepEqual(cm!["metadata"].name, "istio");
  assert.deepEqual(cm!["metadata"].namespace, "istio-system");
  const mesh = parse(cm!["data"].mesh as string) as Json;
  assert.equal(mesh["pathNormalization"].normalization, "MERGE_SLASHES");
  assert.equal(mesh["accessLogEncoding"], "JSON");
  // Without meshConfig nothing is rendered for the control plane: the cluster keeps what it has.
  assert.deepEqual(generate({ ...iop, spec: { profile: "minimal" } }).components, []);
  const bad = generate({ ...iop, spec: { meshConfig: { pathNormalization: { normalization: "FOO" } } } });
  assert.match(
    bad.errors.join("\n"),
    /spec\.meshConfig\.pathNormalization\.normalization: "FOO" is not one of/,
  );
  assert.ok(!bad.components.some((c) => c.component === "Pilot"));
});
