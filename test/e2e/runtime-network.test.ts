// The local cluster's network on real namespaces: pod → pod with real source IPs, pod → service VIP
// spread over both endpoints (kube-proxy-style DNAT in the node namespace), hairpin to the own VIP,
// names from the per-pod hosts file, pod → the simulated outside world, and teardown that leaves
// nothing behind, also when the test body throws.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import type { ClusterState, PodState } from "../../src/runtime/cluster-state.js";
import { plan } from "../../src/runtime/network-plan.js";
import { apply } from "../../src/runtime/network-apply.js";
import { inventory, teardown } from "../../src/runtime/network-teardown.js";
import { isRunning } from "../../src/runtime/proc.js";
import { testClusterId } from "../../src/testing/runtime-cluster.js";
import { VIP, webClusterState, withCluster } from "../../src/testing/runtime-e2e-cluster.js";
import {
  assertNothingLeft,
  execCapture,
  runtimeE2eBlocker,
  waitFor,
} from "../../src/testing/runtime-root.js";

test("runtime network: pods, service VIPs, hosts files, outside world, teardown", async (t) => {
  const blocker = runtimeE2eBlocker();
  if (blocker !== undefined) {
    t.skip(blocker);
    return;
  }
  const state = webClusterState(testClusterId("e2e"));
  const [web1, web2, client] = state.pods as [PodState, PodState, PodState];
  const times = await withCluster(t, state, async (sup) => {
    // pod → pod by IP, across namespaces: the server sees the client's real pod IP.
    const tcp = await execCapture(sup, client, ["nc", "-w", "3", web1.ip, "9000"]);
    assert.equal(tcp.code, 0, tcp.stderr);
    assert.equal(tcp.stdout, "web-1 10.244.1.2\n");
    const http = await execCapture(sup, client, [
      "curl",
      "-sS",
      "--max-time",
      "3",
      `http://${web2.ip}:8080/ip`,
    ]);
    assert.deepEqual(JSON.parse(http.stdout), { server: "web-2", origin: "10.244.1.2" });

    // pod → VIP:port over 20 connections: both endpoints answer, every one sees the real source IP.
    const loop = `for i in $(seq 20); do curl -sS --max-time 3 http://${VIP}/; done`;
    const many = await execCapture(sup, client, ["sh", "-c", loop]);
    assert.equal(many.code, 0, many.stderr);
    const replies = many.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { server: string; origin: string });
    assert.equal(replies.length, 20);
    assert.ok(
      replies.every((r) => r.origin === "10.244.1.2"),
      many.stdout,
    );
    const servers = new Set(replies.map((r) => r.server));
    assert.deepEqual(
      [...servers].sort(),
      ["web-1", "web-2"],
      `both endpoints should get traffic: ${many.stdout}`,
    );

    // Names from the pod's hosts file: qualified from another namespace, short inside the namespace.
    const names = await execCapture(sup, client, [
      "getent",
      "hosts",
      "web.foo",
      "web.foo.svc.cluster.local",
      "example.com",
      "client",
    ]);
    assert.equal(names.code, 0, names.stderr);
    assert.match(names.stdout, /^10\.96\.0\.10\s+web\.foo /m);
    assert.match(names.stdout, /^203\.0\.113\.10\s+example\.com/m);
    assert.match(names.stdout, /^10\.244\.1\.2\s+client$/m);
    assert.notEqual(
      (await execCapture(sup, client, ["getent", "hosts", "web"])).code,
      0,
      "short name resolves only in its own namespace",
    );
    const short = await execCapture(sup, web1, ["getent", "hosts", "web"]);
    assert.match(short.stdout, /^10\.96\.0\.10\s+web /m);
    const byName = await execCapture(sup, client, [
      "curl",
      "-sS",
      "--max-time",
      "3",
      "http://web.foo.svc.cluster.local/",
    ]);
    assert.equal((JSON.parse(byName.stdout) as { origin: string }).origin, "10.244.1.2");

    // Hairpin: an endpoint reaching its own service VIP still gets answered, whichever endpoint is picked.
    const hairpin = await execCapture(sup, web1, [
      "sh",
      "-c",
      `for i in $(seq 8); do curl -sS --max-time 3 http://web/; done`,
    ]);
    assert.equal(hairpin.code, 0, hairpin.stderr);
    const hp = hairpin.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { server: string; origin: string });
    assert.equal(hp.length, 8);
    // A connection to itself is masqueraded to the node gateway; one to the other endpoint keeps its IP.
    for (const r of hp)
      assert.equal(r.origin, r.server === "web-1" ? "169.254.1.1" : "10.244.0.2", hairpin.stdout);

    // pod → the simulated outside world by name, with the real source IP.
    const outside = await execCapture(sup, client, ["curl", "-sS", "--max-time", "3", "http://example.com/"]);
    assert.deepEqual(JSON.parse(outside.stdout), { server: "example.com", origin: "10.244.1.2" });

    // The inventory sees the cluster while it runs.
    const inv = await inventory(state.clusterId);
    assert.equal(inv.netns.length, 5);
    assert.ok(inv.processes.length >= 3, JSON.stringify(inv.processes));
  });
  t.diagnostic(
    `3 pods + node + outside: plan+apply ${times.up.toFixed(0)} ms, teardown ${times.down.toFixed(0)} ms`,
  );
  await assertNothingLeft(state.clusterId);
});

test("runtime network: a failing test body still leaves nothing behind", async (t) => {
  const blocker = runtimeE2eBlocker();
  if (blocker !== undefined) {
    t.skip(blocker);
    return;
  }
  const state = webClusterState(testClusterId("e2e"));
  await assert.rejects(
    withCluster(t, state, async () => {
      assert.ok((await inventory(state.clusterId)).netns.length > 0);
      throw new Error("deliberate failure in the middle of the test");
    }),
    /deliberate failure/,
  );
  await assertNothingLeft(state.clusterId);
});

test("runtime network: teardown by cluster id recovers from a crash (no plan, processes still inside)", async (t) => {
  const blocker = runtimeE2eBlocker();
  if (blocker !== undefined) {
    t.skip(blocker);
    return;
  }
  const state = webClusterState(testClusterId("e2e"));
  t.after(() => teardown(state.clusterId));
  await apply(plan(state));
  // A process the "crashed" daemon left behind inside a pod, not known to any supervisor.
  const orphan = spawnSync(
    "sh",
    ["-c", `ip netns exec ${state.pods[0]!.netns} sleep 300 >/dev/null 2>&1 & echo $!`],
    { encoding: "utf8" },
  );
  const pid = Number(orphan.stdout.trim());
  assert.ok(pid > 0);
  await waitFor("orphan inside the pod", async () =>
    (await inventory(state.clusterId)).processes.some((p) => p.pid === pid),
  );
  const removed = await teardown(state.clusterId);
  assert.equal(removed.netns.length, 5);
  await assertNothingLeft(state.clusterId);
  assert.equal(isRunning(pid), false, "the orphan was killed");
});

test("runtime network: apply is idempotent and applies only the difference", async (t) => {
  const blocker = runtimeE2eBlocker();
  if (blocker !== undefined) {
    t.skip(blocker);
    return;
  }
  const state = webClusterState(testClusterId("e2e"));
  t.after(() => teardown(state.clusterId));
  const first = plan(state);
  assert.equal((await apply(first)).created.length, 5);
  assert.deepEqual((await apply(first, first)).unchanged.length, 5);
  // Without a previous plan everything is converged again, harmlessly.
  assert.equal((await apply(first)).updated.length, 5);
  // Remove a pod and an endpoint: one namespace goes, the node's rules change, the other pods' hosts stay.
  const smaller: ClusterState = {
    ...state,
    pods: state.pods.filter((p) => p.name !== "web-2"),
    services: state.services.map((s) => ({ ...s, endpoints: ["10.244.0.2"] })),
  };
  const second = plan(smaller);
  const report = await apply(second, first);
  assert.deepEqual(report.removed, [state.pods[1]!.netns]);
  assert.deepEqual(report.updated, [state.nodeNetns]);
  const rules = spawnSync("ip", ["netns", "exec", state.nodeNetns, "iptables-save", "-t", "nat"], {
    encoding: "utf8",
  }).stdout;
  assert.doesNotMatch(rules, /10\.244\.0\.3/);
  assert.match(rules, /DNAT --to-destination 10\.244\.0\.2:8080/);
  const inv = await inventory(state.clusterId);
  assert.equal(inv.netns.length, 4);

  // A sidecar's capture rules go into its pod's nat table, and go away when the sidecar does.
  const capture = [
    "*nat",
    ":PREROUTING ACCEPT [0:0]",
    ":INPUT ACCEPT [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    ":POSTROUTING ACCEPT [0:0]",
    ":ISTIO_OUTPUT - [0:0]",
    "-A OUTPUT -p tcp -j ISTIO_OUTPUT",
    "-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN",
    "-A ISTIO_OUTPUT -p tcp -j REDIRECT --to-ports 15001",
    "COMMIT",
    "",
  ].join("\n");
  const injected: ClusterState = {
    ...smaller,
    pods: smaller.pods.map((p) => (p.name === "web-1" ? { ...p, captureRules: capture } : p)),
  };
  const third = plan(injected);
  assert.deepEqual((await apply(third, second)).updated, [state.pods[0]!.netns]);
  const podNat = (): string =>
    spawnSync("ip", ["netns", "exec", state.pods[0]!.netns, "iptables-save", "-t", "nat"], {
      encoding: "utf8",
    }).stdout;
  assert.match(podNat(), /-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN/);
  await apply(second, third);
  assert.doesNotMatch(podNat(), /ISTIO_OUTPUT/);
  await teardown(state.clusterId);
  await assertNothingLeft(state.clusterId);
});
