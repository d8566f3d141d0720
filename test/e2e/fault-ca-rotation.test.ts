// Fault suite: the mesh root rotates under traffic. STRICT mTLS between three sidecars (curl → httpbin
// over HTTP, curl → tcp-echo over TCP); while one TCP connection streams a line every 200 ms and a loop
// makes a new HTTP request and a new TCP connection every 100 ms, `shoal x ca rotate-root` trusts the
// new root everywhere, has every proxy renew its leaf under it, then drops the old root. Nothing fails,
// the stream gets every line, and at the end every proxy's leaf chains to the new root and the old root
// is in no proxy's trust bundle (`shoal proxy-config secret`, `shoal x ca status`).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { podNetnsName } from "../../src/runtime/names.js";
import { SAMPLES, startMeshCluster } from "../../src/testing/mesh-e2e.js";
import { runtimeE2eBlocker, waitFor } from "../../src/testing/runtime-root.js";

const STREAM_LINES = 40; // 8 s at 200 ms
const REQUESTS = 50; // with their TCP twins, about 8 s

const STRICT = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
  namespace: foo
spec:
  mtls:
    mode: STRICT
`;

/** Runs `sh -c CMD` in a network namespace in the background; resolves to its output and exit code. */
function background(netns: string, cmd: string) {
  const child = spawn("ip", ["netns", "exec", netns, "sh", "-c", cmd], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => (out += String(d)));
  child.stderr.on("data", () => undefined);
  const done = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  return { child, output: () => out, done };
}

interface Secret {
  name: string;
  fingerprint?: string;
  root?: string;
}

test("fault: root rotation under traffic drops no connection and fails no request", async (t) => {
  const blocker = runtimeE2eBlocker();
  if (blocker !== undefined) return t.skip(blocker);
  const t0 = performance.now();
  const c = await startMeshCluster("fca");
  const jobs: Array<ReturnType<typeof background>> = [];
  t.after(async () => {
    for (const j of jobs) j.child.kill("SIGKILL");
    await c.close();
  });
  await c.ok(["create", "namespace", "foo"]);
  for (const sample of ["tcp-echo", "httpbin", "curl"]) {
    const injected = await c.ok(["kube-inject", "-f", join(SAMPLES, sample)]);
    await c.ok(["apply", "-f", "-", "-n", "foo"], { stdin: injected });
  }
  await c.ok(["apply", "-f", "-"], { stdin: STRICT });
  await c.waitPods("foo", 3);
  const pods = await Promise.all(
    ["curl", "httpbin", "tcp-echo"].map(async (a) => (await c.pod(a, "foo")).replace("pod/", "")),
  );
  const curlNetns = podNetnsName(c.clusterId, "foo", pods[0]!);
  await waitFor(
    "httpbin and tcp-echo answer through the mesh",
    async () => {
      const r = await c.sh(
        "curl",
        "foo",
        `curl -s -o /dev/null -w '%{http_code}' http://httpbin:8000/get; echo; echo ping | nc tcp-echo 9000`,
      );
      return r.stdout === "200\nhello ping\n";
    },
    20_000,
  );
  const before = JSON.parse(await c.ok(["x", "ca", "status", "-o", "json"])) as {
    signingRoot: string;
    proxies: unknown[];
  };
  assert.equal(before.proxies.length, 3);
  t.diagnostic(`cluster, pods and first traffic ready in ${Math.round(performance.now() - t0)} ms`);

  // One long-lived TCP connection through both sidecars, and a loop of new connections.
  const stream = background(
    curlNetns,
    `for i in $(seq 1 ${STREAM_LINES}); do echo "line $i"; sleep 0.2; done | nc tcp-echo 9001`,
  );
  const loop = background(
    curlNetns,
    `for i in $(seq 1 ${REQUESTS}); do ` +
      `echo "http $(curl -s -o /dev/null -m 5 -w '%{http_code}' http://httpbin:8000/get)"; ` +
      `echo "tcp $(echo x$i | nc tcp-echo 9000)"; sleep 0.1; done`,
  );
  jobs.push(stream, loop);
  await waitFor("the stream to start", () => stream.output().includes("hello line 2\n"), 10_000);

  const report = JSON.parse(await c.ok(["x", "ca", "rotate-root", "-o", "json"], { timeoutMs: 60_000 })) as {
    oldRoot: string;
    newRoot: string;
    phases: Array<{ phase: string; proxies: number }>;
    lagging: string[];
  };
  assert.equal(report.oldRoot, before.signingRoot);
  assert.notEqual(report.newRoot, report.oldRoot);
  assert.deepEqual(
    report.phases.map((p) => [p.phase, p.proxies]),
    [
      ["trust", 3],
      ["reissue", 3],
      ["drop", 3],
    ],
  );
  assert.deepEqual(report.lagging, []);
  t.diagnostic(`rotation phases: ${JSON.stringify(report.phases)}`);
  // The rotation must finish while traffic still flows, or the test proves nothing.
  assert.ok(!stream.output().includes(`hello line ${STREAM_LINES}\n`), "the stream outlived the rotation");

  assert.equal(await stream.done, 0);
  assert.deepEqual(
    stream.output().split("\n").filter(Boolean),
    Array.from({ length: STREAM_LINES }, (_, i) => `hello line ${i + 1}`),
    "the connection opened before the rotation saw every line",
  );
  assert.equal(await loop.done, 0);
  const results = loop.output().split("\n").filter(Boolean);
  assert.equal(results.length, 2 * REQUESTS);
  const failures = results.filter((r, i) => r !== (i % 2 === 0 ? "http 200" : `tcp hello x${(i + 1) / 2}`));
  assert.deepEqual(failures, [], "every request and connection during the rotation succeeded");

  // Every proxy's leaf chains to the new root, and the old root is in no trust bundle.
  for (const pod of pods) {
    const secrets = JSON.parse(
      await c.ok(["proxy-config", "secret", `${pod}.foo`, "-o", "json"]),
    ) as Secret[];
    const roots = secrets.filter((s) => s.name === "ROOTCA").map((s) => s.fingerprint);
    assert.deepEqual(roots, [report.newRoot], `${pod}: trusts only the new root`);
    assert.equal(
      secrets.find((s) => s.name === "default")?.root,
      report.newRoot,
      `${pod}: leaf under the new root`,
    );
    const all = await c.ok(["proxy-config", "all", `${pod}.foo`, "-o", "json"]);
    assert.doesNotMatch(all, /PRIVATE KEY/, `${pod}: no key material in its config or secrets`);
    assert.doesNotMatch(await c.ok(["logs", pod, "-n", "foo", "-c", "istio-proxy"]), /PRIVATE KEY/);
  }
  const after = JSON.parse(await c.ok(["x", "ca", "status", "-o", "json"])) as {
    rotationPhase: string;
    roots: Array<{ fingerprint: string }>;
    proxies: Array<{ signing: boolean }>;
  };
  assert.equal(after.rotationPhase, "none");
  assert.deepEqual(
    after.roots.map((r) => r.fingerprint),
    [report.newRoot],
  );
  assert.deepEqual(
    after.proxies.map((p) => p.signing),
    [true, true, true],
  );
  assert.equal(statSync(join(c.stateDir, "ca", "root-key.pem")).mode & 0o777, 0o600);
});
