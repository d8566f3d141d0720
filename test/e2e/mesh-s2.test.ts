// Scenario S2 (mutual TLS migration) on the local cluster, as the Istio task runs it: foo and bar
// labelled for injection with httpbin and curl, legacy with a curl of its own and no sidecar. The
// 6-pair curl matrix at each step (none, foo STRICT, mesh-wide STRICT, both deleted), a packet capture
// in the server pod showing TLS between sidecars and plaintext from legacy, and a pod without a sidecar
// refused by a STRICT workload on a port no Service declares.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { podNetnsName } from "../../src/runtime/names.js";
import { SAMPLES, startMeshCluster } from "../../src/testing/mesh-e2e.js";
import type { MeshCluster } from "../../src/testing/mesh-e2e.js";
import { runtimeE2eBlocker, waitFor } from "../../src/testing/runtime-root.js";

const FROM = ["foo", "bar", "legacy"] as const;
const TO = ["foo", "bar"] as const;
const OK = "200 0";
const REFUSED = "000 56";
/** Each cell is `HTTP_CODE CURL_EXIT`, in the order foo→foo, foo→bar, bar→foo, bar→bar, legacy→foo, legacy→bar. */
const STEPS: Array<{ what: string; change: string[][]; expect: string[] }> = [
  { what: "none (PERMISSIVE)", change: [], expect: [OK, OK, OK, OK, OK, OK] },
  {
    what: "default in foo: STRICT",
    change: [["apply", "-f", join(SAMPLES, "policies", "s2-step1-foo-strict.yaml")]],
    expect: [OK, OK, OK, OK, REFUSED, OK],
  },
  {
    what: "default in istio-system: STRICT",
    change: [["apply", "-f", join(SAMPLES, "policies", "s2-step2-mesh-strict.yaml")]],
    expect: [OK, OK, OK, OK, REFUSED, REFUSED],
  },
  {
    what: "both deleted",
    change: [
      ["delete", "peerauthentication", "default", "-n", "foo"],
      ["delete", "peerauthentication", "default", "-n", "istio-system"],
    ],
    expect: [OK, OK, OK, OK, OK, OK],
  },
];

async function matrix(c: MeshCluster): Promise<string[]> {
  const pairs = FROM.flatMap((from) => TO.map((to) => [from, to] as const));
  return Promise.all(
    pairs.map(async ([from, to]) => {
      const r = await c.sh(
        "curl",
        from,
        `curl http://httpbin.${to}:8000/ip -s -o /dev/null -w "%{http_code}"; echo " $?"`,
      );
      return r.stdout.trim();
    }),
  );
}

/** Captures `tcp port 8080` on the pod's eth0 while `during` runs; resolves to tcpdump's ASCII output. */
async function capture(netns: string, during: () => Promise<unknown>): Promise<string> {
  const dump = spawn(
    "ip",
    ["netns", "exec", netns, "tcpdump", "-i", "eth0", "-n", "-l", "-U", "-A", "tcp port 8080"],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let err = "";
  dump.stdout.on("data", (d) => (out += d));
  dump.stderr.on("data", (d) => (err += d));
  const exited = new Promise((r) => dump.once("close", r));
  try {
    await waitFor("tcpdump listening", () => err.includes("listening on"), 5000);
    await during();
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    if (dump.pid !== undefined && dump.exitCode === null) process.kill(dump.pid, "SIGTERM");
    await exited;
  }
  return out;
}

test("S2: mutual TLS migration, the 6-pair matrix at each step, on the wire", async (t) => {
  const blocker = runtimeE2eBlocker();
  if (blocker !== undefined) return t.skip(blocker);
  const c = await startMeshCluster("s2");
  t.after(() => c.close());
  const timings: string[] = [];
  let t0 = performance.now();
  for (const ns of ["foo", "bar", "legacy"]) await c.ok(["create", "namespace", ns]);
  const samples = (...names: string[]) => names.flatMap((n) => ["-f", join(SAMPLES, n)]);
  for (const ns of ["foo", "bar"]) await c.ok(["label", "namespace", ns, "istio-injection=enabled"]);
  // foo also runs tcp-echo: a workload with a port no Service declares (9002), for the STRICT check.
  await c.ok(["apply", ...samples("httpbin", "curl", "tcp-echo"), "-n", "foo"]);
  await c.ok(["apply", ...samples("httpbin", "curl"), "-n", "bar"]);
  await c.ok(["apply", ...samples("curl"), "-n", "legacy"]);
  await Promise.all([c.waitPods("foo", 3), c.waitPods("bar", 2), c.waitPods("legacy", 1)]);
  timings.push(`apply→pods ready: ${Math.round(performance.now() - t0)} ms`);
  const legacyContainers = await c.ok([
    "get",
    "pods",
    "-n",
    "legacy",
    "-o",
    "jsonpath={.items[0].spec.containers[*].name}",
  ]);
  assert.equal(legacyContainers.trim(), "curl", "legacy has no sidecar");
  const echoIP = await c.podIP("tcp-echo", "foo");
  const undeclared = async () =>
    (await c.sh("curl", "legacy", `echo "port 9002" | nc ${echoIP} 9002`)).stdout;

  for (const [i, step] of STEPS.entries()) {
    t0 = performance.now();
    for (const args of step.change) await c.ok(args);
    const got = await waitFor(
      `step ${i}`,
      async () => {
        const m = await matrix(c);
        return JSON.stringify(m) === JSON.stringify(step.expect) ? m : undefined;
      },
      8000,
    ).catch(() => matrix(c));
    assert.deepEqual(
      got,
      step.expect,
      `step ${i} (${step.what}): ${FROM.flatMap((f) => TO.map((to) => `${f}→${to}`)).join(", ")}`,
    );
    timings.push(`step ${i} change→matrix holds: ${Math.round(performance.now() - t0)} ms`);
    if (i === 0)
      assert.equal(await undeclared(), "hello port 9002\n", "PERMISSIVE: plaintext to an undeclared port");
    if (i === 1) assert.equal(await undeclared(), "", "STRICT: no sidecar, undeclared port, refused");
    if (i === 0) {
      // On the wire at the server pod: sidecar to sidecar is TLS; legacy under PERMISSIVE is readable.
      const server = (await c.pod("httpbin", "foo")).replace("pod/", "");
      const netns = podNetnsName(c.clusterId, "foo", server);
      const meshed = await capture(netns, () => c.sh("curl", "bar", "curl -s http://httpbin.foo:8000/ip"));
      assert.ok(meshed.length > 0, "sidecar traffic was captured");
      assert.doesNotMatch(meshed, /GET \/ip/, "sidecar to sidecar: no readable HTTP");
      const plain = await capture(netns, () => c.sh("curl", "legacy", "curl -s http://httpbin.foo:8000/ip"));
      assert.match(plain, /GET \/ip HTTP\/1\.1/, "legacy client: readable plaintext");
    }
  }
  t.diagnostic(timings.join("; "));
});
