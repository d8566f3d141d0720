import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isGatewayProxy, ROUTER_ARGS } from "./gateway.js";
import type { PodTemplateLike } from "./sidecar.js";
import { injectPodSpec, PROXY_IMAGE } from "./sidecar.js";

const gatewayPod = (image = "auto"): PodTemplateLike => ({
  metadata: {
    name: "istio-egressgateway-1",
    labels: { app: "istio-egressgateway", istio: "egressgateway" },
    annotations: { "inject.istio.io/templates": "gateway" },
  },
  spec: {
    serviceAccountName: "istio-egressgateway-service-account",
    containers: [{ name: "istio-proxy", image, ports: [{ containerPort: 8080 }, { containerPort: 8443 }] }],
  },
});

describe("gateway injection template", () => {
  it("turns the image-auto istio-proxy into the router proxy, with no init container and no capture", () => {
    const out = injectPodSpec(gatewayPod(), { workloadName: "istio-egressgateway" });
    assert.equal(out.spec?.initContainers, undefined);
    assert.equal(out.spec?.containers?.length, 1);
    const c = out.spec!.containers![0]!;
    assert.equal(c.image, PROXY_IMAGE);
    assert.deepEqual(c["args"], [...ROUTER_ARGS]);
    assert.deepEqual(c["ports"], [{ containerPort: 8080 }, { containerPort: 8443 }]);
    assert.equal(isGatewayProxy(out.spec), true);
    assert.ok(out.metadata?.annotations?.["sidecar.istio.io/status"]);
    assert.equal(out.metadata?.labels?.["service.istio.io/canonical-name"], "istio-egressgateway");
  });
  it("is idempotent and leaves a pod with a concrete proxy image alone", () => {
    const once = injectPodSpec(gatewayPod());
    assert.deepEqual(injectPodSpec(once), once);
    const own = injectPodSpec(gatewayPod("my/proxy:1"));
    assert.equal(own.spec?.containers?.[0]?.image, "my/proxy:1");
    assert.equal(isGatewayProxy(own.spec), false);
  });
});
