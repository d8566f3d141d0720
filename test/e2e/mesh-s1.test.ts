// Scenario S1 (authorization for TCP traffic) on the local cluster, as the Istio task runs it: tcp-echo
// and curl injected with `kube-inject | apply`, then the four policies applied live in order. Each row
// of the table is checked with `echo "port N" | nc …` (9000/9001 through the Service, 9002 at the pod
// IP), each policy must take effect without restarting anything, and a denial's access log line at the
// server sidecar names the policy and rule.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { DaemonClient } from "../../src/cli/daemon-client.js";
import { SAMPLES, startMeshCluster } from "../../src/testing/mesh-e2e.js";
import { runtimeE2eBlocker } from "../../src/testing/runtime-root.js";
import { S1_DENIAL_LOG, S1_STEPS, expectS1Row, s1Row } from "../../src/testing/s1-table.js";

test("S1: TCP authorization policies applied live, every row of the table", async (t) => {
  const blocker = runtimeE2eBlocker();
  if (blocker !== undefined) return t.skip(blocker);
  const c = await startMeshCluster("s1");
  t.after(() => c.close());
  const timings: string[] = [];
  let t0 = performance.now();
  await c.ok(["create", "namespace", "foo"]);
  for (const sample of ["tcp-echo", "curl"]) {
    const injected = await c.ok(["kube-inject", "-f", join(SAMPLES, sample)]);
    await c.ok(["apply", "-f", "-", "-n", "foo"], { stdin: injected });
  }
  await c.waitPods("foo", 2);
  timings.push(`apply→pods ready: ${Math.round(performance.now() - t0)} ms`);
  const server = (await c.pod("tcp-echo", "foo")).replace("pod/", "");
  const serverIP = await c.podIP("tcp-echo", "foo");
  assert.match(
    await c.ok(["get", "pod", server, "-n", "foo", "-o", "jsonpath={.spec.containers[*].name}"]),
    /tcp-echo istio-proxy/,
  );

  // The sidecar's health endpoint answers from the pod network (Istio's readiness probe port).
  const health = await c.sh(
    "curl",
    "foo",
    `curl -s -o /dev/null -w "%{http_code}" http://${serverIP}:15021/healthz/ready`,
  );
  assert.equal(health.stdout, "200");

  const row = s1Row(c, serverIP);

  let version: string | undefined = (await c.proxyStatus()).find((r) => r.podName === server)?.versionAcked;
  // The policies select tcp-echo only: curl's sidecar must not be sent anything while they change.
  const client = (await c.pod("curl", "foo")).replace("pod/", "");
  const clientBefore = (await c.proxyStatus()).find((r) => r.podName === client);
  assert.equal(clientBefore?.state, "SYNCED");
  for (const [i, step] of S1_STEPS.entries()) {
    t0 = performance.now();
    if (step.file) {
      await c.ok(["apply", "-f", join(SAMPLES, "policies", step.file)]);
      const applied = performance.now();
      version = await c.waitNewVersion(server, "foo", version);
      timings.push(
        `step ${i} apply→ACK ${Math.round(performance.now() - t0)} ms (after the CLI returned: ${Math.round(performance.now() - applied)} ms)`,
      );
    }
    const polled = performance.now();
    await expectS1Row(row, i, step);
    timings.push(`step ${i} row checked in ${Math.round(performance.now() - polled)} ms`);
  }

  // The denial is logged at the server sidecar with the policy and rule that matched.
  const logs = await c.ok(["logs", server, "-n", "foo", "-c", "istio-proxy"]);
  assert.match(logs, S1_DENIAL_LOG);
  assert.match(logs, /rbac_access_denied_matched_policy\[none\] .* InboundPassthroughCluster /);
  assert.match(logs, / inbound\|9001\|\| /, "allowed connections are logged too");

  // The daemon reads the proxy's live config (what `shoal proxy-config` shows), in sync with proxy-status.
  const live = await new DaemonClient(c.stateDir).proxyConfig("foo", server);
  assert.equal(live.version, version);
  assert.match(
    await c.ok(["proxy-status"]),
    new RegExp(`${server}\\.foo\\s+Kubernetes\\s+SYNCED\\s+${version}`),
  );
  const clientAfter = (await c.proxyStatus()).find((r) => r.podName === client);
  assert.equal(clientAfter?.versionSent, clientBefore?.versionSent, "an unaffected proxy received no push");

  // `shoal proxy-config` shows the live sidecar the way istioctl does.
  assert.match(
    await c.ok(["proxy-config", "cluster", `${client}.foo`, "--direction", "outbound"]),
    /^tcp-echo\.foo\.svc\.cluster\.local\s+9000\s+-\s+outbound\s+EDS$/m,
  );
  assert.match(
    await c.ok(["proxy-config", "listener", server, "-n", "foo", "--port", "15006"]),
    /Addr: \*:9000; tcp; mTLS PERMISSIVE\s+Cluster: inbound\|9000\|\|/,
  );
  assert.match(
    await c.ok(["proxy-config", "secret", `${server}.foo`]),
    /^default\s+Cert Chain\s+ACTIVE\s+true\s+[0-9a-f]+\s+\S+\s+\S+\nROOTCA\s+CA\s+ACTIVE\s+true/m,
  );
  t.diagnostic(timings.join("; "));
});
