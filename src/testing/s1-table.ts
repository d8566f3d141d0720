// Scenario S1's table (authorization for TCP traffic, Istio's task): the policy of each step and which
// of tcp-echo's ports 9000, 9001 (through the Service) and 9002 (at the pod IP) answer from curl with it.
// Shared by the e2e tests that run the table, directly and through the tunnel.
import assert from "node:assert/strict";
import type { MeshCluster } from "./mesh-e2e.js";
import { waitFor } from "./runtime-root.js";

export const S1_PORTS = [9000, 9001, 9002] as const;

/** step → policy file under samples/policies (none for step 0) and whether 9000, 9001, 9002 answer. */
export const S1_STEPS: Array<{ file?: string; expect: [boolean, boolean, boolean] }> = [
  { expect: [true, true, true] },
  { file: "s1-step1-allow-ports.yaml", expect: [true, true, false] },
  { file: "s1-step2-allow-get-9000.yaml", expect: [false, false, false] },
  { file: "s1-step3-deny-get.yaml", expect: [false, false, false] },
  { file: "s1-step4-deny-get-9000.yaml", expect: [false, true, true] },
];

/** The denial of step 2's rule as the server sidecar logs it. */
export const S1_DENIAL_LOG =
  /"- - -" 0 - - rbac_access_denied_matched_policy\[ns\[foo\]-policy\[tcp-policy\]-rule\[0\]\] /;

/** `echo "port N" | nc …` from curl in foo: true when tcp-echo answers, false when nothing comes back. */
export function s1Check(c: MeshCluster, serverIP: string): (port: number) => Promise<boolean> {
  return async (port) => {
    const host = port === 9002 ? serverIP : "tcp-echo";
    const r = await c.sh("curl", "foo", `echo "port ${port}" | nc ${host} ${port}`);
    if (r.stdout === `hello port ${port}\n`) return true;
    assert.equal(r.stdout, "", `port ${port}: either the answer or nothing`);
    return false;
  };
}

/** One row of the table: 9000, 9001, 9002. */
export function s1Row(c: MeshCluster, serverIP: string): () => Promise<boolean[]> {
  const check = s1Check(c, serverIP);
  return () => Promise.all(S1_PORTS.map(check));
}

/** Step I's row must come out as the table says: polled briefly (a push may still be on its way), then
 *  asserted. No restart: a new config applies to the next connection. */
export async function expectS1Row(
  row: () => Promise<boolean[]>,
  i: number,
  step: (typeof S1_STEPS)[number],
): Promise<void> {
  const got = await waitFor(
    `step ${i}: ${JSON.stringify(step.expect)}`,
    async () => {
      const r = await row();
      return JSON.stringify(r) === JSON.stringify(step.expect) ? r : undefined;
    },
    8000,
  ).catch(async () => row());
  assert.deepEqual(got, step.expect, `step ${i} (${step.file ?? "no policy"}): 9000, 9001, 9002`);
}
