// buildPodState(): a pod with a sidecar gets its capture rules, no istio-init process, and the proxy
// running as uid/gid 1337 before the application; a pod without one is unchanged.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { AnyResource } from "../../api/meta.js";
import { injectPodSpec } from "../../inject/sidecar.js";
import type { PodTemplateLike } from "../../inject/sidecar.js";
import { captureRules, defaultCaptureOptions } from "../../runtime/capture-rules.js";
import { startSequence } from "../../runtime/supervisor.js";
import { buildClusterState, buildPodState } from "./cluster-state.js";
import { commandOnlyResolver } from "./containers.js";

function pod(annotations?: Record<string, string>): AnyResource {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "curl", namespace: "foo", uid: "u1", ...(annotations ? { annotations } : {}) },
    spec: {
      serviceAccountName: "curl",
      initContainers: [{ name: "setup", image: "busybox", command: ["true"] }],
      containers: [{ name: "curl", image: "curlimages/curl", command: ["sleep", "inf"] }],
    },
    status: { phase: "Pending", podIP: "10.244.0.7" },
  };
}

const injected = (p: AnyResource) => injectPodSpec(p as unknown as PodTemplateLike) as unknown as AnyResource;
const fakeProxy = (p: { namespace: string; name: string }) => ({
  argv: ["/bin/proxy"],
  env: { SHOAL_POD_NAME: p.name, SHOAL_POD_NAMESPACE: p.namespace },
});

test("a pod without a sidecar: no capture rules, containers as the resolver makes them", () => {
  const state = buildPodState(pod(), "c1", commandOnlyResolver);
  assert.equal(state.captureRules, "");
  assert.deepEqual(
    state.containers.map((c) => [c.name, c.startOrder, c.runToCompletion, c.uid]),
    [
      ["setup", 0, true, undefined],
      ["curl", 1, false, undefined],
    ],
  );
});

test("a sidecar pod: capture rules from its istio-init, istio-init runs no process, proxy as 1337 first", () => {
  const state = buildPodState(injected(pod()), "c1", commandOnlyResolver, fakeProxy);
  assert.equal(state.captureRules, captureRules(defaultCaptureOptions()));
  assert.deepEqual(
    state.containers.map((c) => [c.name, c.startOrder, c.runToCompletion, c.uid, c.gid]),
    [
      ["setup", 0, true, undefined, undefined],
      ["curl", 2, false, undefined, undefined],
      ["istio-proxy", 1, false, 1337, 1337],
    ],
  );
  const proxy = state.containers.find((c) => c.name === "istio-proxy")!;
  assert.deepEqual(proxy.argv, ["/bin/proxy"]);
  assert.deepEqual(proxy.env, { SHOAL_POD_NAME: "curl", SHOAL_POD_NAMESPACE: "foo" });
  assert.equal(proxy.restartPolicy, "Always");
  assert.deepEqual(
    startSequence(state.containers).map((c) => c.name),
    ["setup", "istio-proxy", "curl"],
  );
});

test("capture annotations shape the rules", () => {
  const state = buildPodState(
    injected(pod({ "traffic.sidecar.istio.io/excludeOutboundPorts": "3306" })),
    "c1",
    commandOnlyResolver,
    fakeProxy,
  );
  assert.match(state.captureRules, /-A ISTIO_OUTPUT -p tcp --dport 3306 -j RETURN\n/);
});

test("the default launcher starts the built proxy with the pod's identity", () => {
  const state = buildPodState(injected(pod()), "c1", commandOnlyResolver);
  const proxy = state.containers.find((c) => c.name === "istio-proxy")!;
  assert.equal(proxy.argv[0], process.execPath);
  // The bundled proxy once the build made it, else its entry module (scripts/build-proxy.mjs).
  assert.match(proxy.argv[1]!, /\/src\/proxy\/main\.(bundle\.mjs|js)$/);
  assert.equal(proxy.env["SHOAL_POD_NAME"], "curl");
  assert.equal(proxy.env["SHOAL_POD_NAMESPACE"], "foo");
  assert.equal(proxy.env["SHOAL_POD_IP"], "10.244.0.7");
  assert.equal(proxy.env["SHOAL_SERVICE_ACCOUNT"], "curl");
  // xDS mode: the control plane's socket, the token file and admin socket in the pod's run directory.
  const flag = (name: string) => proxy.argv[proxy.argv.indexOf(name) + 1];
  assert.match(flag("--xds")!, /^unix:.*\/c1\/xds\.sock$/);
  assert.match(flag("--token-file")!, /\/c1\/pods\/foo\.curl\/token$/);
  assert.equal(flag("--pod-ip"), "10.244.0.7");
  assert.doesNotMatch(proxy.argv.join(" "), /eyJ/, "no token on the command line");
  // The application waits for the proxy's /ready on its admin socket.
  assert.deepEqual(proxy.readiness, {
    socketPath: flag("--admin-socket"),
    path: "/ready",
    timeoutMs: 30_000,
  });
  assert.equal(state.containers.find((c) => c.name === "curl")!.readiness, undefined);
  assert.deepEqual(buildPodState(injected(pod()), "c1", commandOnlyResolver), state, "stable across passes");
});

test("bad capture annotations make the pod a problem that says why, not a pod without capture", () => {
  const bad = injected(pod({ "traffic.sidecar.istio.io/excludeOutboundIPRanges": "10.0.0.0/99" }));
  const { state, problems } = buildClusterState([bad], "c1", commandOnlyResolver);
  assert.equal(state.pods.length, 0);
  assert.equal(problems.length, 1);
  assert.match(problems[0]!.message, /pod foo\/curl: .*"10\.0\.0\.0\/99" is not a CIDR/);
});
