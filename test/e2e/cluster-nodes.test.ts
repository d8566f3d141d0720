// A cluster of three nodes from a config file: Node objects (shoal get and kubectl), pods spread over
// the untainted nodes, a pod pinned to the tainted pool by nodeSelector + toleration, an unschedulable
// pod Pending with kube-scheduler's reason, pod→pod and pod→Service traffic across nodes with the
// caller's real IP, and the outside world's firewall (dropped from a default-pool node, open from the
// gateway pool).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { SAMPLES, startMeshCluster } from "../../src/testing/mesh-e2e.js";
import { runtimeE2eBlocker, waitFor } from "../../src/testing/runtime-root.js";

const CONFIG = `kind: Cluster
nodes:
  - {name: pool-a, labels: {cloud.google.com/gke-nodepool: default-pool}}
  - {name: pool-b, labels: {cloud.google.com/gke-nodepool: default-pool}}
  - name: gw
    labels: {cloud.google.com/gke-nodepool: gateway}
    taints: [{key: dedicated, value: gateway, effect: NoSchedule}]
firewall:
  outsideEgress: deny
  allowFrom: [{nodeSelector: {cloud.google.com/gke-nodepool: gateway}}]
`;

const pinned = (name: string, tolerate: boolean) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {app: ${name}}}
spec:
  terminationGracePeriodSeconds: 0
  nodeSelector: {cloud.google.com/gke-nodepool: gateway}
${tolerate ? "  tolerations: [{key: dedicated, operator: Equal, value: gateway}]\n" : ""}  containers:
    - {name: curl, image: curlimages/curl, command: ["/bin/sleep", "infinity"]}
`;

test("three nodes: Node objects, scheduling, cross-node traffic with real source IPs, the firewall", async (t) => {
  const blocker = runtimeE2eBlocker();
  if (blocker !== undefined) return t.skip(blocker);
  const dir = process.env["TMPDIR"] ?? "/tmp";
  const configFile = join(dir, `shoal-nodes-${process.pid}.yaml`);
  await writeFile(configFile, CONFIG);
  t.after(() => rm(configFile, { force: true }));
  const c = await startMeshCluster("nodes", ["--config", configFile]);
  t.after(() => c.close());

  // Node objects, with the pool label the tutorial selects on.
  const nodes = await c.ok(["get", "nodes"]);
  for (const n of ["pool-a", "pool-b", "gw"]) assert.match(nodes, new RegExp(`^${n}\\s+Ready`, "m"));
  const gwNodes = await c.ok(["get", "nodes", "-l", "cloud.google.com/gke-nodepool=gateway", "-o", "name"]);
  assert.equal(gwNodes.trim(), "node/gw");
  if (spawnSync("kubectl", ["version", "--client"]).status === 0) {
    const kube = spawnSync(
      "kubectl",
      [
        "get",
        "nodes",
        "-l",
        "cloud.google.com/gke-nodepool=gateway",
        "-o",
        "jsonpath={.items[*].spec.taints}",
      ],
      { encoding: "utf8", env: { ...process.env, KUBECONFIG: join(c.stateDir, "kubeconfig") } },
    );
    assert.equal(kube.status, 0, kube.stderr);
    assert.deepEqual(JSON.parse(kube.stdout), [{ key: "dedicated", value: "gateway", effect: "NoSchedule" }]);
  }

  await c.ok(["create", "namespace", "foo"]);
  await c.ok(["apply", "-f", join(SAMPLES, "httpbin"), "-n", "foo"]);
  await c.ok(["apply", "-f", join(SAMPLES, "curl"), "-n", "foo"]);
  await c.ok(["apply", "-f", "-", "-n", "foo"], { stdin: pinned("gw-curl", true) });
  await c.ok(["apply", "-f", "-", "-n", "foo"], { stdin: pinned("stuck", false) });
  // The stuck pod never runs; the three others do.
  await waitFor("three pods running", async () => {
    const phases = (
      await c.ok(["get", "pods", "-n", "foo", "-o", "jsonpath={.items[*].status.phase}"])
    ).trim();
    return phases.split(" ").filter((p) => p === "Running").length === 3;
  });

  const nodeOf = async (app: string) =>
    (
      await c.ok(["get", "pod", "-l", `app=${app}`, "-n", "foo", "-o", "jsonpath={.items[0].spec.nodeName}"])
    ).trim();
  const httpbinNode = await nodeOf("httpbin");
  const curlNode = await nodeOf("curl");
  // Spread: the two unconstrained pods land on the two untainted nodes, one each.
  assert.deepEqual([httpbinNode, curlNode].sort(), ["pool-a", "pool-b"]);
  assert.equal(await nodeOf("gw-curl"), "gw");
  const hostIP = (
    await c.ok(["get", "pod", "gw-curl", "-n", "foo", "-o", "jsonpath={.status.hostIP}"])
  ).trim();
  assert.equal(hostIP, "172.18.0.4");

  const stuck = JSON.parse(await c.ok(["get", "pod", "stuck", "-n", "foo", "-o", "json"])) as {
    status: {
      phase: string;
      conditions: Array<{ type: string; status: string; reason: string; message: string }>;
    };
  };
  assert.equal(stuck.status.phase, "Pending");
  const scheduled = stuck.status.conditions.find((x) => x.type === "PodScheduled")!;
  assert.equal(scheduled.status, "False");
  assert.equal(scheduled.reason, "Unschedulable");
  assert.equal(
    scheduled.message,
    "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gateway}, 2 node(s) didn't match Pod's node affinity/selector.",
  );

  // Across nodes, to the pod IP and through the Service VIP: httpbin sees the caller's own IP.
  const httpbinIP = await c.podIP("httpbin", "foo");
  for (const client of ["curl", "gw-curl"]) {
    const callerIP = await c.podIP(client, "foo");
    for (const url of [`http://${httpbinIP}:8080/ip`, "http://httpbin.foo:8000/ip"]) {
      const body = await waitFor(`${client} → ${url}`, async () => {
        const r = await c.sh(client, "foo", `curl -s --max-time 5 ${url}`);
        return r.stdout.includes("origin") ? r.stdout : undefined;
      });
      assert.equal((JSON.parse(body) as { origin: string }).origin, callerIP, `${client} → ${url}`);
    }
  }

  // The firewall: the outside world is dropped from a default-pool node and open from the gateway pool.
  const outside = (client: string) =>
    c.sh(client, "foo", 'curl -s -o /dev/null --connect-timeout 2 -w "%{http_code}" http://example.com');
  assert.equal((await outside("gw-curl")).stdout, "200");
  const denied = await outside("curl");
  assert.equal(denied.stdout, "000", "no answer from the outside world");
  assert.notEqual(denied.code, 0);
});
