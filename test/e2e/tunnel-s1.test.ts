// Scenario S1 (authorization for TCP traffic) once more, with tcp-echo's pods labelled
// `networking.istio.io/tunnel: http`: curl's sidecar reaches tcp-echo's Service through the tunnel
// (HTTP/2 CONNECT streams over one mTLS session to the pod's 15008, Istio's HBONE) instead of one mTLS
// connection per TCP connection. Every row of S1's table must come out the same, a denial must be logged
// the same way at the server sidecar, and a NetworkPolicy that admits only curl on 9000 must keep
// admitting it (the tunnel port is allowed to the peers the policy admits).
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { SAMPLES, startMeshCluster } from "../../src/testing/mesh-e2e.js";
import { runtimeE2eBlocker, waitFor } from "../../src/testing/runtime-root.js";
import { S1_DENIAL_LOG, S1_STEPS, expectS1Row, s1Check, s1Row } from "../../src/testing/s1-table.js";

const ONLY_CURL_ON_9000 = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: tcp-echo-from-curl
  namespace: foo
spec:
  podSelector:
    matchLabels:
      app: tcp-echo
  policyTypes: [Ingress]
  ingress:
    - from:
        - podSelector:
            matchLabels:
              app: curl
      ports:
        - port: 9000
`;

/** The tcp-echo sample with Istio's tunnel label on its pod template. */
function labelledTcpEcho(dir: string): string {
  const sample = readFileSync(join(SAMPLES, "tcp-echo", "tcp-echo.yaml"), "utf8");
  const template = "  template:\n    metadata:\n      labels:\n        app: tcp-echo\n";
  assert.ok(sample.includes(template), "the sample's pod template labels");
  const file = join(dir, "tcp-echo-tunnel.yaml");
  writeFileSync(file, sample.replace(template, `${template}        networking.istio.io/tunnel: http\n`));
  return file;
}

test("S1 through the tunnel: every row of the table, the denial logged, a NetworkPolicy still admits curl", async (t) => {
  const blocker = runtimeE2eBlocker();
  if (blocker !== undefined) return t.skip(blocker);
  const dir = mkdtempSync(join(tmpdir(), "shoal-tunnel-e2e-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const c = await startMeshCluster("tunnel");
  t.after(() => c.close());
  await c.ok(["create", "namespace", "foo"]);
  for (const file of [labelledTcpEcho(dir), join(SAMPLES, "curl")]) {
    const injected = await c.ok(["kube-inject", "-f", file]);
    await c.ok(["apply", "-f", "-", "-n", "foo"], { stdin: injected });
  }
  await c.waitPods("foo", 2);
  const server = (await c.pod("tcp-echo", "foo")).replace("pod/", "");
  const serverIP = await c.podIP("tcp-echo", "foo");
  const client = (await c.pod("curl", "foo")).replace("pod/", "");

  // curl's sidecar is told to reach tcp-echo's endpoints through the tunnel.
  assert.match(
    await c.ok(["proxy-config", "endpoints", `${client}.foo`]),
    new RegExp(
      `^${serverIP.replace(/\./g, "\\.")}:9000\\s+HEALTHY\\s+OK\\s+outbound\\|9000\\|\\|tcp-echo\\.foo\\.svc\\.cluster\\.local\\s+HBONE:15008$`,
      "m",
    ),
  );

  const check = s1Check(c, serverIP);
  const row = s1Row(c, serverIP);

  let version: string | undefined = (await c.proxyStatus()).find((r) => r.podName === server)?.versionAcked;
  for (const [i, step] of S1_STEPS.entries()) {
    if (step.file) {
      await c.ok(["apply", "-f", join(SAMPLES, "policies", step.file)]);
      version = await c.waitNewVersion(server, "foo", version);
    }
    await expectS1Row(row, i, step);
    if (i === 0) {
      // The connections went through the tunnel: curl's pod holds an mTLS session to tcp-echo's 15008
      // (kept for reuse after the connections ended).
      const sockets = await c.sh("curl", "foo", "ss -Htn state established");
      assert.match(sockets.stdout, new RegExp(`${serverIP.replace(/\./g, "\\.")}:15008\\b`));
    }
  }

  // A tunneled connection's denial is logged at the server sidecar like a direct one's.
  const logs = await c.ok(["logs", server, "-n", "foo", "-c", "istio-proxy"]);
  assert.match(logs, S1_DENIAL_LOG);
  assert.match(logs, / inbound\|9001\|\| /, "allowed connections are logged too");

  // NetworkPolicy: tcp-echo admits only curl on 9000 (step 4's policy denies 9000; remove the mesh policy).
  await c.ok(["delete", "-f", join(SAMPLES, "policies", "s1-step4-deny-get-9000.yaml")]);
  await c.waitNewVersion(server, "foo", version);
  await c.ok(["apply", "-f", "-"], { stdin: ONLY_CURL_ON_9000 });
  const admitted = await waitFor(
    "9000 admitted through the tunnel",
    async () => ((await check(9000)) ? true : undefined),
    8000,
  ).catch(() => false);
  assert.equal(admitted, true, "curl is admitted on 9000 through the tunnel under the NetworkPolicy");
  // The pod-IP port no Service declares is not the tunnel's: the node rejects it as the policy says.
  assert.equal(await check(9002), false, "9002 is not admitted by the NetworkPolicy");
});
