// The local cluster without sidecars, as Istio's tasks start: S1 step 0 (tcp-echo through the Service
// and at the pod IP), S2 step 0 (httpbin reached from every namespace, with the caller's real pod IP in
// the answer), the simulated outside world, and a host left exactly as it was found.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { outsidePkiFiles } from "../../src/runtime/outside-pki.js";
import { SAMPLES, startMeshCluster } from "../../src/testing/mesh-e2e.js";
import { runtimeE2eBlocker, waitFor } from "../../src/testing/runtime-root.js";

/** What a cluster could leave behind on the host: its network namespaces and processes (named by its
 *  cluster id or state dir, so other clusters running at the same time do not count), and the host's own
 *  interfaces. */
function hostFootprint(marks: string[]): { netns: string[]; links: number; processes: string[] } {
  const lines = (cmd: string, args: string[]) =>
    spawnSync(cmd, args, { encoding: "utf8" })
      .stdout.split("\n")
      .filter((l) => l.trim() !== "");
  const ours = (l: string) => marks.some((m) => l.includes(m));
  return {
    netns: lines("ip", ["netns", "list"]).filter(ours),
    links: lines("ip", ["-o", "link"]).length,
    processes: lines("ps", ["-eo", "pid=,args="]).filter(ours),
  };
}

test("without sidecars: S1 and S2 step 0, the outside world, and nothing left behind", async (t) => {
  const blocker = runtimeE2eBlocker();
  if (blocker !== undefined) return t.skip(blocker);
  const linksBefore = hostFootprint([]).links;
  const c = await startMeshCluster("plain");
  let closed = false;
  t.after(() => (closed ? undefined : c.close()));

  for (const ns of ["foo", "bar", "legacy"]) await c.ok(["create", "namespace", ns]);
  await c.ok(["apply", "-f", join(SAMPLES, "tcp-echo"), "-n", "foo"]);
  for (const ns of ["foo", "bar"]) await c.ok(["apply", "-f", join(SAMPLES, "httpbin"), "-n", ns]);
  for (const ns of ["foo", "bar", "legacy"]) await c.ok(["apply", "-f", join(SAMPLES, "curl"), "-n", ns]);
  await c.waitPods("foo", 3);
  await c.waitPods("bar", 2);
  await c.waitPods("legacy", 1);

  // S1 step 0: through the Service for declared ports, at the pod IP for 9002.
  const echoIp = await c.podIP("tcp-echo", "foo");
  for (const [port, host] of [
    [9000, "tcp-echo"],
    [9001, "tcp-echo"],
    [9002, echoIp],
  ] as const) {
    const out = await waitFor(`hello port ${port}`, async () => {
      const r = await c.sh("curl", "foo", `echo "port ${port}" | nc ${host} ${port}`);
      return r.stdout === `hello port ${port}\n` ? r.stdout : undefined;
    });
    assert.equal(out, `hello port ${port}\n`);
  }

  // S2 step 0: every namespace reaches httpbin in foo and bar; /ip shows the caller's real pod IP.
  for (const from of ["foo", "bar", "legacy"]) {
    const callerIp = await c.podIP("curl", from);
    for (const to of ["foo", "bar"]) {
      const code = await c.sh(
        "curl",
        from,
        `curl -s -o /dev/null -w "%{http_code}" http://httpbin.${to}:8000/ip`,
      );
      assert.equal(code.stdout, "200", `${from} → ${to}: ${code.stderr}`);
      const ip = await c.sh("curl", from, `curl -s http://httpbin.${to}:8000/ip`);
      assert.equal((JSON.parse(ip.stdout) as { origin: string }).origin, callerIp, `${from} → ${to}`);
    }
  }

  // The simulated outside world answers by name, over HTTP and HTTPS with the cluster's public CA.
  const outside = await c.sh("curl", "legacy", 'curl -s -o /dev/null -w "%{http_code}" http://example.com');
  assert.equal(outside.stdout, "200", outside.stderr);
  const root = outsidePkiFiles(c.stateDir).rootCert;
  const teapot = await c.sh(
    "curl",
    "foo",
    `curl -s -o /dev/null -w "%{http_code}" --cacert ${root} https://httpbin.org/status/418`,
  );
  assert.equal(teapot.stdout, "418", teapot.stderr);

  await c.close();
  closed = true;
  assert.deepEqual(
    hostFootprint([c.clusterId, c.stateDir]),
    { netns: [], links: linksBefore, processes: [] },
    "the host is as it was before `shoal up`",
  );
});
