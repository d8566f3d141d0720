// admitPod(): the webhook injects pods created in an injection-enabled namespace and leaves others alone.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { AnyResource } from "../api/meta.js";
import { admitPod } from "./admission.js";

const pod = (annotations?: Record<string, string>): AnyResource => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name: "curl",
    namespace: "foo",
    labels: { app: "curl" },
    ...(annotations ? { annotations } : {}),
  },
  spec: { containers: [{ name: "curl", image: "curlimages/curl", command: ["sleep", "inf"] }] },
});

const names = (p: AnyResource) =>
  ((p["spec"] as { containers: Array<{ name: string }> }).containers ?? []).map((c) => c.name);

test("a pod in an enabled namespace gets the sidecar; the workload name is recorded", () => {
  const { pod: out, decision } = admitPod(pod(), { "istio-injection": "enabled" }, "curl-deploy");
  assert.equal(decision.inject, true);
  assert.deepEqual(names(out), ["curl", "istio-proxy"]);
  const env = (out["spec"] as { containers: Array<{ env?: Array<{ name: string; value?: string }> }> })
    .containers[1]!.env!;
  assert.equal(env.find((e) => e.name === "ISTIO_META_WORKLOAD_NAME")?.value, "curl-deploy");
});

test("no label, a disabled namespace, or an opt-out annotation: the pod is returned as it is", () => {
  for (const [ns, p] of [
    [{}, pod()],
    [{ "istio-injection": "disabled" }, pod()],
    [{ "istio-injection": "enabled" }, pod({ "sidecar.istio.io/inject": "false" })],
  ] as const) {
    const { pod: out, decision } = admitPod(p, ns);
    assert.equal(decision.inject, false);
    assert.equal(out, p);
  }
});

test("an already injected pod is not injected again", () => {
  const once = admitPod(pod(), { "istio-injection": "enabled" }).pod;
  assert.deepEqual(admitPod(once, { "istio-injection": "enabled" }).pod, once);
});
