// The desired state of a gateway pod reads Istio's concurrency from the stored resources: the pod's
// proxy.istio.io/config, else the `istio` ConfigMap's defaultConfig; sidecar pods stay one process.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { AnyResource } from "../../api/meta.js";
import { PROXY_CONFIG_ANNOTATION } from "../../api/proxy-annotations.js";
import type { PodTemplateLike } from "../../inject/sidecar.js";
import { PROXY_CONTAINER, injectPodSpec } from "../../inject/sidecar.js";
import { meshConfigMap } from "../../mesh-config/sources.js";
import { buildClusterState } from "./cluster-state.js";
import { commandOnlyResolver } from "./containers.js";

function gatewayPod(annotations: Record<string, string> = {}): AnyResource {
  const template: PodTemplateLike = {
    metadata: {
      name: "ingressgateway-1",
      labels: { istio: "ingressgateway" },
      annotations: { "inject.istio.io/templates": "gateway", ...annotations },
    },
    spec: { serviceAccountName: "gw", containers: [{ name: PROXY_CONTAINER, image: "auto" }] },
  };
  const pod = injectPodSpec(template) as unknown as AnyResource;
  return {
    ...pod,
    apiVersion: "v1",
    kind: "Pod",
    metadata: { ...pod.metadata, namespace: "istio-system", uid: "u1" },
    status: { podIP: "10.244.0.9" },
  };
}

function sidecarPod(annotations: Record<string, string>): AnyResource {
  const pod = injectPodSpec({
    metadata: { name: "curl-1", annotations },
    spec: { containers: [{ name: "curl", image: "curl", command: ["sleep", "inf"] }] },
  }) as unknown as AnyResource;
  return {
    ...pod,
    apiVersion: "v1",
    kind: "Pod",
    metadata: { ...pod.metadata, namespace: "foo" },
    status: { podIP: "10.244.0.10" },
  };
}

const mesh = (defaultConfig: Record<string, unknown>) =>
  meshConfigMap({ defaultConfig }) as unknown as AnyResource;

function proxyArgv(resources: AnyResource[], podName: string): string[] {
  const { state, problems } = buildClusterState(resources, "c1", commandOnlyResolver);
  assert.deepEqual(problems, []);
  const pod = state.pods.find((p) => p.name === podName)!;
  return pod.containers.find((c) => c.name === PROXY_CONTAINER)!.argv;
}
const workers = (argv: string[]) =>
  argv.includes("--workers") ? argv[argv.indexOf("--workers") + 1] : undefined;

test("the mesh ConfigMap's defaultConfig.concurrency sets a gateway's workers", () => {
  assert.equal(workers(proxyArgv([mesh({ concurrency: 2 }), gatewayPod()], "ingressgateway-1")), "2");
});

test("the pod's proxy.istio.io/config wins over the mesh's default", () => {
  const pod = gatewayPod({ [PROXY_CONFIG_ANNOTATION]: '{"concurrency": 1}' });
  assert.equal(workers(proxyArgv([mesh({ concurrency: 3 }), pod], "ingressgateway-1")), "1");
});

test("without concurrency anywhere the gateway's argv has no --workers", () => {
  const argv = proxyArgv([gatewayPod()], "ingressgateway-1");
  assert.equal(workers(argv), undefined);
  assert.ok(argv.includes("--gateway"));
  assert.deepEqual(proxyArgv([mesh({}), gatewayPod()], "ingressgateway-1"), argv);
});

test("a sidecar pod stays one process whatever its annotation or the mesh says", () => {
  const pod = sidecarPod({ [PROXY_CONFIG_ANNOTATION]: "concurrency: 4" });
  const argv = proxyArgv([mesh({ concurrency: 2 }), pod], "curl-1");
  assert.equal(workers(argv), undefined);
  assert.ok(!argv.includes("--gateway"));
});
