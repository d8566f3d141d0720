// Mesh config on a real cluster: `shoal up --set meshConfig.…` sets MERGE_SLASHES and JSON access logs;
// an exact ALLOW for /status/200 then lets a raw `/status//200` through on the wire (BASE would deny it),
// agreeing with `x authz check` run on the cluster's own mesh config; the access log line is one JSON
// object; `x mesh-config` and the istio ConfigMap show the settings; after the daemon is killed and
// `shoal up` runs again, the settings are still there and still enforced.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { SAMPLES, applyText, startMeshCluster } from "../../src/testing/mesh-e2e.js";
import { runtimeE2eBlocker, waitFor } from "../../src/testing/runtime-root.js";

const POLICY = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: exact-status
  namespace: foo
spec:
  selector:
    matchLabels:
      app: httpbin
  action: ALLOW
  rules:
    - to:
        - operation:
            paths: ["/status/200"]
`;

test(
  "mesh config: set at up, enforced on the wire, shown, and kept across a daemon restart",
  { timeout: 90_000 },
  async (t) => {
    const blocker = runtimeE2eBlocker();
    if (blocker !== undefined) return t.skip(blocker);
    const c = await startMeshCluster("mc", [
      "--set",
      "meshConfig.pathNormalization.normalization=MERGE_SLASHES",
      "--set",
      "meshConfig.accessLogEncoding=JSON",
    ]);
    t.after(() => c.close());
    await c.ok(["create", "namespace", "foo"]);
    for (const sample of ["httpbin", "curl"]) {
      const injected = await c.ok(["kube-inject", "-f", join(SAMPLES, sample)]);
      await c.ok(["apply", "-f", "-", "-n", "foo"], { stdin: injected });
    }
    await applyText(c, POLICY, "foo");
    await c.waitPods("foo", 2, 30_000);

    const code = async (path: string) =>
      (
        await c.sh(
          "curl",
          "foo",
          `curl -s -o /dev/null -w '%{http_code}' --path-as-is http://httpbin:8000${path}`,
        )
      ).stdout;
    await waitFor(
      "httpbin answers through the mesh",
      async () => (await code("/status/200")) === "200",
      20_000,
    );
    // MERGE_SLASHES: `//` is merged before the policy sees the path.
    assert.equal(await code("/status//200"), "200");
    assert.equal(await code("/status/418"), "403");

    // The what-if on the cluster's own mesh config and manifests agrees.
    const meshYaml = await c.ok(["x", "mesh-config"]);
    assert.match(meshYaml, /^ {2}normalization: MERGE_SLASHES$/m);
    assert.match(meshYaml, /^accessLogEncoding: JSON$/m);
    const meshFile = join(c.stateDir, "mesh-e2e.yaml");
    const manifests = join(c.stateDir, "manifests-e2e.yaml");
    writeFileSync(meshFile, meshYaml);
    writeFileSync(
      manifests,
      `${readFileSync(join(SAMPLES, "httpbin", "httpbin.yaml"), "utf8")}\n---\n${POLICY}`,
    );
    const whatIf = async (path: string, extra: string[] = []) =>
      JSON.parse(
        await c.ok([
          "x",
          "authz",
          "check",
          "-f",
          manifests,
          "--pod",
          "httpbin.foo",
          "--port",
          "8080",
          "--path",
          path,
          "-o",
          "json",
          ...extra,
        ]),
      ) as { decision: string };
    assert.equal((await whatIf("/status//200", ["--mesh-config", meshFile])).decision, "ALLOW");
    assert.equal((await whatIf("/status//200")).decision, "DENY", "under BASE `//` is kept");

    // The access log: one JSON object per line with Envoy's default keys (the path as normalized).
    const httpbinPod = (await c.pod("httpbin", "foo")).replace("pod/", "");
    const line = await waitFor(
      "a JSON access log line for /status/200",
      async () =>
        (await c.ok(["logs", httpbinPod, "-n", "foo", "-c", "istio-proxy"]))
          .split("\n")
          .find((l) => l.startsWith("{") && l.includes('"/status/200"')),
      10_000,
    );
    const entry = JSON.parse(line) as Record<string, unknown>;
    assert.equal(entry["response_code"], 200);
    assert.equal(entry["method"], "GET");
    for (const k of ["start_time", "upstream_cluster", "downstream_remote_address", "response_flags"])
      assert.ok(k in entry, k);

    // Istio users look in the ConfigMap.
    const cm = await c.ok(["get", "configmap", "istio", "-n", "istio-system", "-o", "jsonpath={.data.mesh}"]);
    assert.match(cm, /normalization: MERGE_SLASHES/);

    // Kill the daemon; `shoal up` again (without --set): the settings persist and are enforced.
    const pid = Number(readFileSync(join(c.stateDir, "daemon.pid"), "utf8").trim());
    process.kill(pid, "SIGKILL");
    await waitFor(
      "daemon gone",
      () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      },
      5000,
    );
    await c.ok(["up"]);
    assert.match(await c.ok(["x", "mesh-config"]), /^ {2}normalization: MERGE_SLASHES$/m);
    await waitFor(
      "the mesh answers after the restart",
      async () => (await code("/status/200")) === "200",
      20_000,
    );
    assert.equal(await code("/status//200"), "200");
    assert.equal(await code("/status/418"), "403");
  },
);
