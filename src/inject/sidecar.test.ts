// injectPodSpec(): the containers and annotation Istio's injector adds, capture annotations carried into
// the init arguments, idempotence, and that an injected Pod still validates.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseManifests } from "../api/load.js";
import { validateDocument } from "../api/validate.js";
import type { PodTemplateLike } from "./sidecar.js";
import { STATUS_ANNOTATION, hasSidecar, initArgs, injectPodSpec } from "./sidecar.js";

const template = (annotations?: Record<string, string>): PodTemplateLike => ({
  metadata: { labels: { app: "tcp-echo", version: "v1" }, ...(annotations ? { annotations } : {}) },
  spec: {
    serviceAccountName: "tcp-echo",
    initContainers: [{ name: "setup", image: "busybox", command: ["true"] }],
    containers: [
      {
        name: "tcp-echo",
        image: "istio/tcp-echo-server:1.3",
        ports: [{ containerPort: 9000 }],
      },
    ],
  },
});

test("adds istio-init last among init containers and istio-proxy last among containers", () => {
  const out = injectPodSpec(template(), { workloadName: "tcp-echo" });
  assert.deepEqual(
    out.spec?.initContainers?.map((c) => c.name),
    ["setup", "istio-init"],
  );
  assert.deepEqual(
    out.spec?.containers?.map((c) => c.name),
    ["tcp-echo", "istio-proxy"],
  );
  const init = out.spec!.initContainers![1]!;
  assert.equal(init.image, "shoal/proxyv2");
  assert.deepEqual(init["args"], [
    "istio-iptables",
    "-p",
    "15001",
    "-z",
    "15006",
    "-u",
    "1337",
    "-m",
    "REDIRECT",
    "-i",
    "*",
    "-x",
    "",
    "-b",
    "*",
    "-d",
    "15090,15021,15020",
    "--log_output_level=default:info",
  ]);
  const proxy = out.spec!.containers![1]!;
  assert.equal(proxy.image, "shoal/proxyv2");
  assert.deepEqual(proxy["args"], ["proxy", "sidecar"]);
  assert.deepEqual(proxy["ports"], [{ containerPort: 15090, name: "http-envoy-prom", protocol: "TCP" }]);
  assert.equal((proxy["securityContext"] as { runAsUser: number }).runAsUser, 1337);
  assert.equal((proxy["securityContext"] as { runAsGroup: number }).runAsGroup, 1337);
});

test("records sidecar.istio.io/status, default-container annotations and Istio's labels", () => {
  const out = injectPodSpec(template({ team: "x" }), { workloadName: "tcp-echo" });
  const a = out.metadata!.annotations!;
  assert.deepEqual(JSON.parse(a[STATUS_ANNOTATION]!), {
    initContainers: ["istio-init"],
    containers: ["istio-proxy"],
    volumes: [],
    imagePullSecrets: null,
    revision: "default",
  });
  assert.equal(a["team"], "x");
  assert.equal(a["kubectl.kubernetes.io/default-container"], "tcp-echo");
  assert.deepEqual(out.metadata!.labels, {
    app: "tcp-echo",
    version: "v1",
    "security.istio.io/tlsMode": "istio",
    "service.istio.io/canonical-name": "tcp-echo",
    "service.istio.io/canonical-revision": "v1",
  });
});

test("injecting twice is injecting once; the input is never modified", () => {
  const input = template();
  const before = structuredClone(input);
  const once = injectPodSpec(input);
  assert.deepEqual(input, before);
  assert.deepEqual(injectPodSpec(once), once);
  // A hand-written sidecar without the status annotation is also left alone.
  const manual: PodTemplateLike = { spec: { containers: [{ name: "app" }, { name: "istio-proxy" }] } };
  assert.deepEqual(injectPodSpec(manual), manual);
});

test("capture annotations are carried into the istio-iptables arguments", () => {
  const args = initArgs({
    "traffic.sidecar.istio.io/includeInboundPorts": "9000,9001",
    "traffic.sidecar.istio.io/excludeInboundPorts": "8081,15020",
    "traffic.sidecar.istio.io/includeOutboundIPRanges": "10.0.0.0/8",
    "traffic.sidecar.istio.io/excludeOutboundIPRanges": "10.96.0.0/16",
    "traffic.sidecar.istio.io/excludeOutboundPorts": "3306",
  });
  const flag = (f: string) => args[args.indexOf(f) + 1];
  assert.equal(flag("-b"), "9000,9001");
  assert.equal(flag("-d"), "15090,15021,15020,8081");
  assert.equal(flag("-i"), "10.0.0.0/8");
  assert.equal(flag("-x"), "10.96.0.0/16");
  assert.equal(flag("-o"), "3306");
  assert.ok(!initArgs({}).includes("-o"), "-o only when the annotation is set");
});

test("hasSidecar: an istio-proxy container, or a native sidecar init container", () => {
  assert.equal(hasSidecar({ containers: [{ name: "app" }] }), false);
  assert.equal(hasSidecar({ containers: [{ name: "app" }, { name: "istio-proxy" }] }), true);
  assert.equal(
    hasSidecar({ containers: [{ name: "app" }], initContainers: [{ name: "istio-proxy" }] }),
    true,
  );
  assert.equal(hasSidecar(undefined), false);
});

test("an injected Pod validates", () => {
  const t = template();
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    ...t,
    metadata: { ...t.metadata, name: "tcp-echo", namespace: "foo" },
  };
  const injected = injectPodSpec(pod);
  const [doc] = parseManifests(JSON.stringify(injected)).documents;
  const r = validateDocument(doc!);
  assert.deepEqual(r.errors, []);
  assert.deepEqual(r.warnings, []);
});
