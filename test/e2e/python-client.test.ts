// The official Python client (Debian's python3-kubernetes, for /usr/bin/python3) against a live local
// cluster through its kubeconfig: list and watch pods (from the start and from a listed resourceVersion),
// and an AuthorizationPolicy created, read, listed and deleted as a custom object.
import assert from "node:assert/strict";
import { test } from "node:test";
import { hasPythonKubernetes, kubectlBlocker, startKubectlCluster } from "../../src/testing/kubectl-e2e.js";
import { runtimeE2eBlocker } from "../../src/testing/runtime-root.js";

const SCRIPT = String.raw`
import json
from kubernetes import client, config, watch

config.load_kube_config()
v1 = client.CoreV1Api()
out = {}
pods = v1.list_namespaced_pod("py")
out["pods"] = sorted(p.metadata.name for p in pods.items)
out["phases"] = sorted(p.status.phase for p in pods.items)

w = watch.Watch()
out["watched"] = []
for ev in w.stream(v1.list_namespaced_pod, namespace="py", timeout_seconds=20):
    out["watched"].append([ev["type"], ev["object"].metadata.name])
    if len(out["watched"]) >= len(pods.items):
        w.stop()

# A watch from the list's version replays what happened since: here, the pod deleted after the list.
victim = out["pods"][0]
v1.delete_namespaced_pod(victim, "py")
w = watch.Watch()
out["since"] = None
for ev in w.stream(v1.list_namespaced_pod, namespace="py", resource_version=pods.metadata.resource_version, timeout_seconds=20):
    if ev["type"] == "DELETED" and ev["object"].metadata.name == victim:
        out["since"] = ["DELETED", victim]
        w.stop()

co = client.CustomObjectsApi()
args = ("security.istio.io", "v1", "py", "authorizationpolicies")
body = {
    "apiVersion": "security.istio.io/v1",
    "kind": "AuthorizationPolicy",
    "metadata": {"name": "deny-post"},
    "spec": {"action": "DENY", "rules": [{"to": [{"operation": {"methods": ["POST"]}}]}]},
}
out["created"] = co.create_namespaced_custom_object(*args, body)["metadata"]["name"]
out["action"] = co.get_namespaced_custom_object(*args, "deny-post")["spec"]["action"]
out["listed"] = [i["metadata"]["name"] for i in co.list_namespaced_custom_object(*args)["items"]]
try:
    co.create_namespaced_custom_object(*args, {**body, "metadata": {"name": "bad"}, "spec": {"action": "NOPE"}})
    out["invalid"] = "accepted"
except client.exceptions.ApiException as e:
    out["invalid"] = [e.status, json.loads(e.body)["reason"]]
co.delete_namespaced_custom_object(*args, "deny-post")
out["after"] = [i["metadata"]["name"] for i in co.list_namespaced_custom_object(*args)["items"]]
print(json.dumps(out))
`;

test("the Python client lists and watches pods and manages an AuthorizationPolicy as a custom object", async (t) => {
  const blocker = runtimeE2eBlocker() ?? kubectlBlocker();
  if (blocker !== undefined) return t.skip(blocker);
  if (!hasPythonKubernetes()) {
    // As root (CI) the client is part of the set-up: its absence is a failure, not a skip.
    if (process.getuid?.() === 0)
      throw new Error("/usr/bin/python3 has no kubernetes module: apt-get install -y python3-kubernetes");
    return t.skip("needs /usr/bin/python3 with the kubernetes module (python3-kubernetes)");
  }
  const k = await startKubectlCluster("py");
  t.after(() => k.close());
  await k.ok(
    "kubectl create ns py && kubectl apply -f samples/tcp-echo/tcp-echo.yaml -n py && kubectl apply -f samples/curl/curl.yaml -n py",
  );
  await k.ok(
    "kubectl -n py rollout status deploy/tcp-echo --timeout=60s && kubectl -n py rollout status deploy/curl --timeout=60s",
    70_000,
  );
  const r = await k.bash(`/usr/bin/python3 - <<'EOF'\n${SCRIPT}\nEOF`, 60_000);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  const pods = out["pods"] as string[];
  assert.equal(pods.length, 2);
  assert.ok(pods.some((p) => p.startsWith("curl-")) && pods.some((p) => p.startsWith("tcp-echo-")));
  assert.deepEqual(out["phases"], ["Running", "Running"]);
  assert.deepEqual(
    (out["watched"] as string[][]).map(([type, name]) => `${type} ${name}`).sort(),
    pods.map((p) => `ADDED ${p}`),
  );
  assert.deepEqual(out["since"], ["DELETED", pods[0]]);
  assert.equal(out["created"], "deny-post");
  assert.equal(out["action"], "DENY");
  assert.deepEqual(out["listed"], ["deny-post"]);
  assert.deepEqual(out["invalid"], [422, "Invalid"]);
  assert.deepEqual(out["after"], []);
  // Nothing the client wrote is left, nor stored by the invalid request.
  assert.equal((await k.ok("kubectl get authorizationpolicies -n py -o name")).trim(), "");
});
