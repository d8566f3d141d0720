// Scenario S4 step 7 (NetworkPolicy part) on the local cluster: the egress tutorial's setup up to the
// gateway route for example.com (steps 1-2), then its six NetworkPolicies in team-x, as the tutorial
// writes them. A connection that bypasses the sidecar (the proxy's uid, which capture leaves alone) from
// team-x to a team-y pod works before the policies and is refused once the first five are in (they allow
// egress only to the control plane, the egress gateway, DNS, Google's ranges, the metadata server and
// team-x itself), while `curl http://example.com` through the egress gateway still answers 200; the
// sixth (egress to team-y) lets the direct connection through again.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { SAMPLES, applyText, curlMany, podName, startMeshCluster } from "../../src/testing/mesh-e2e.js";
import type { MeshCluster } from "../../src/testing/mesh-e2e.js";
import {
  DR_GATEWAY,
  GATEWAY_80,
  SIDECAR_X,
  STRICT,
  directTeamYToTeamX,
  se,
  toPort80,
  vsHttp,
} from "../../src/testing/s4-tutorial.js";
import { runtimeE2eBlocker, waitFor } from "../../src/testing/runtime-root.js";

/** The tutorial's six policies (samples/egress-gateway/network-policies.yaml), one document each. */
const POLICIES = readFileSync(join(SAMPLES, "egress-gateway", "network-policies.yaml"), "utf8")
  .split(/^---$/m)
  .map((doc) => doc.trim() + "\n");
const NP_TEAM_Y = POLICIES.find((doc) => doc.includes("name: allow-egress-to-team-y"))!;
const FIRST_FIVE = POLICIES.filter((doc) => doc !== NP_TEAM_Y);

/**
 * A TCP connection from team-x's test pod to team-y's, as the proxy's uid so that the sidecar's
 * capture leaves it alone (the bypass NetworkPolicy exists to stop): "open", "refused" or nc's words.
 */
async function direct(c: MeshCluster, ip: string): Promise<string> {
  const r = await c.sh(
    "test",
    "team-x",
    `setpriv --reuid 1337 --regid 1337 --clear-groups nc -vz -w 3 ${ip} 80 2>&1`,
  );
  if (r.code === 0) return "open";
  return /refused/i.test(r.stdout + r.stderr) ? "refused" : `${r.code}: ${r.stdout}${r.stderr}`;
}

async function exampleCodes(c: MeshCluster, tag: string): Promise<string[]> {
  return (await curlMany(c, "test", "team-x", 4, "-o /dev/null -I http://example.com", tag)).map(
    (r) => r.code,
  );
}

test("S4 step 7: the tutorial's NetworkPolicies in team-x", { timeout: 300_000 }, async (t) => {
  const blocker = runtimeE2eBlocker();
  if (blocker !== undefined) return t.skip(blocker);
  const c = await startMeshCluster("s4np");
  t.after(() => c.close());
  const apply = (yaml: string, ns = "istio-egress") => applyText(c, yaml, ns);

  // Steps 1-2 of the tutorial: the gateway, STRICT mTLS, both teams' test pods, example.com via the gateway.
  await c.ok(["create", "namespace", "istio-egress"]);
  await c.ok(["label", "namespace", "istio-egress", "istio.io/rev=default"]);
  await c.ok(["apply", "-f", join(SAMPLES, "egress-gateway", "egressgateway.yaml"), "-n", "istio-egress"]);
  await apply(STRICT, "istio-system");
  for (const ns of ["team-x", "team-y"]) {
    await c.ok(["create", "namespace", ns]);
    await c.ok(["label", "namespace", ns, `team=${ns.slice(-1)}`]);
    await c.ok(["label", "ns", ns, "istio.io/rev=default"]);
    await c.ok(["apply", "-f", join(SAMPLES, "egress-gateway", "test.yaml"), "-n", ns]);
  }
  await Promise.all([c.waitPods("istio-egress", 1), c.waitPods("team-x", 1), c.waitPods("team-y", 1)]);
  await apply(SIDECAR_X, "team-x");
  await apply(GATEWAY_80);
  await apply(DR_GATEWAY);
  await apply(se("example.com", "example-com-ext", ["team-x", "istio-egress"]));
  await apply(
    vsHttp(
      "example.com",
      "example-com-through-egress-gateway",
      ["istio-egress", "team-x"],
      toPort80("example.com"),
    ),
  );
  assert.deepEqual(await exampleCodes(c, "s4np-before"), ["200", "200", "200", "200"]);
  const teamY = (
    await c.ok([
      "get",
      "pod",
      await podName(c, "app=test", "team-y"),
      "-n",
      "team-y",
      "-o",
      "jsonpath={.status.podIP}",
    ])
  ).trim();
  assert.equal(await direct(c, teamY), "open", "without NetworkPolicy team-x reaches team-y directly");

  // Step 7: the policies. With the first five, team-x may reach only the control plane, the egress
  // gateway, DNS, Google's ranges, the metadata server and its own namespace.
  for (const policy of FIRST_FIVE) await apply(policy, "team-x");
  const listed = await c.ok(["get", "networkpolicies", "-n", "team-x", "-o", "name"]);
  assert.equal(listed.trim().split("\n").length, 5, listed);
  await waitFor(
    "the direct connection to team-y refused",
    async () => (await direct(c, teamY)) === "refused",
    15_000,
  );
  assert.deepEqual(await exampleCodes(c, "s4np-after"), ["200", "200", "200", "200"]);
  // The egress gateway itself (istio-egress, no policy) still reaches the outside world: the 200s above
  // crossed it. allow-egress-to-same-namespace has ingress rules and no policyTypes, so it isolates
  // team-x for ingress too: team-y cannot connect to team-x either.
  assert.match(await directTeamYToTeamX(c), /refused/i, "team-y -> team-x");

  // The sixth policy allows egress to team-y: the direct connection goes through again.
  await apply(NP_TEAM_Y, "team-x");
  await waitFor(
    "the direct connection to team-y open again",
    async () => (await direct(c, teamY)) === "open",
    15_000,
  );
  assert.deepEqual(await exampleCodes(c, "s4np-six"), ["200", "200", "200", "200"]);
});
