// `shoal x mtls-report` on scenario S2: foo and bar with sidecars, legacy without. The legacy client
// calls only httpbin.foo, so the report names it as the one plaintext source of exactly that workload
// (by its pod, found from its IP) and calls httpbin.bar safe; applying the PeerAuthentication the report
// suggests for httpbin.bar keeps every sidecar client working and refuses the plaintext one.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import type { MtlsReport } from "../../src/observe/mtls-report.js";
import { SAMPLES, startMeshCluster } from "../../src/testing/mesh-e2e.js";
import { runtimeE2eBlocker, waitFor } from "../../src/testing/runtime-root.js";

const curl = (to: string) =>
  `curl http://httpbin.${to}:8000/ip -s -o /dev/null -w "%{http_code}"; echo " $?"`;

test("S2: mtls-report names the legacy client per workload and its STRICT suggestion is safe", async (t) => {
  const blocker = runtimeE2eBlocker();
  if (blocker !== undefined) return t.skip(blocker);
  const c = await startMeshCluster("mtlsr");
  t.after(() => c.close());
  for (const ns of ["foo", "bar", "legacy"]) await c.ok(["create", "namespace", ns]);
  for (const ns of ["foo", "bar"]) await c.ok(["label", "namespace", ns, "istio-injection=enabled"]);
  const samples = (...names: string[]) => names.flatMap((n) => ["-f", join(SAMPLES, n)]);
  await c.ok(["apply", ...samples("httpbin", "curl"), "-n", "foo"]);
  await c.ok(["apply", ...samples("httpbin", "curl"), "-n", "bar"]);
  await c.ok(["apply", ...samples("curl"), "-n", "legacy"]);
  await Promise.all([c.waitPods("foo", 2), c.waitPods("bar", 2), c.waitPods("legacy", 1)]);
  const legacyIP = await c.podIP("curl", "legacy");

  // Sidecar clients call both workloads; the legacy client calls httpbin.foo only, twice.
  const calls: Array<[string, string]> = [
    ["foo", "foo"],
    ["foo", "bar"],
    ["bar", "foo"],
    ["bar", "bar"],
    ["legacy", "foo"],
    ["legacy", "foo"],
  ];
  for (const [from, to] of calls) {
    const r = await waitFor(
      `${from}→${to}`,
      async () => ((await c.sh("curl", from, curl(to))).stdout.trim() === "200 0" ? true : undefined),
      15_000,
    );
    assert.ok(r);
  }

  const report = async (): Promise<MtlsReport> =>
    JSON.parse(await c.ok(["x", "mtls-report", "-A", "-o", "json"])) as MtlsReport;
  const row = (r: MtlsReport, ns: string) => {
    const w = r.workloads.find((x) => x.namespace === ns && x.workload === "httpbin");
    assert.ok(w, `httpbin.${ns} is in the report: ${JSON.stringify(r)}`);
    return w;
  };
  // Access log lines are written when each request ends; wait until all six are in.
  const first = await waitFor(
    "the report counts every call",
    async () => {
      const r = await report();
      const n = r.workloads.reduce(
        (sum, w) => sum + [...w.plaintextSources, ...w.mtlsSources].reduce((s, x) => s + x.count, 0),
        0,
      );
      return n >= calls.length ? r : undefined;
    },
    10_000,
  );
  const foo = row(first, "foo");
  const bar = row(first, "bar");
  assert.equal(foo.mode, "PERMISSIVE");
  assert.deepEqual(
    foo.plaintextSources.map((s) => [s.namespace, s.workload, s.ip, s.count]),
    [["legacy", "curl", legacyIP, 2]],
    "httpbin.foo: the legacy curl, by its pod IP, and nothing else",
  );
  assert.equal(foo.safeForStrict, false);
  assert.deepEqual(foo.mtlsSources.map((s) => `${s.workload}.${s.namespace}`).sort(), [
    "curl.bar",
    "curl.foo",
  ]);
  assert.deepEqual(bar.plaintextSources, [], "httpbin.bar: no plaintext source");
  assert.equal(bar.safeForStrict, true);
  assert.deepEqual(bar.mtlsSources.map((s) => `${s.workload}.${s.namespace}`).sort(), [
    "curl.bar",
    "curl.foo",
  ]);
  for (const s of [...foo.mtlsSources, ...foo.plaintextSources])
    assert.ok(s.lastSeen && !Number.isNaN(Date.parse(s.lastSeen)), "lastSeen is a time");
  assert.ok(bar.suggestedPolicy, "a STRICT policy is suggested for httpbin.bar");
  const text = await c.ok(["x", "mtls-report", "-n", "bar"]);
  assert.match(text, /httpbin\.bar: PERMISSIVE/);
  assert.match(text, /SAFE for STRICT/);
  assert.doesNotMatch(text, /httpbin\.foo/, "-n bar shows bar only");

  // Apply the suggestion: the sidecar clients still get through, the legacy one would not.
  await c.ok(["apply", "-f", "-"], { stdin: JSON.stringify(bar.suggestedPolicy) });
  for (const from of ["foo", "bar"])
    assert.equal((await c.sh("curl", from, curl("bar"))).stdout.trim(), "200 0", `${from}→bar under STRICT`);
  assert.equal((await c.sh("curl", "legacy", curl("bar"))).stdout.trim(), "000 56", "legacy→bar refused");
  assert.equal((await c.sh("curl", "legacy", curl("foo"))).stdout.trim(), "200 0", "legacy→foo unchanged");
  const after = row(await report(), "bar");
  assert.equal(after.mode, "STRICT");
  assert.equal(after.modePolicy, `bar/${bar.suggestedPolicy.metadata.name}`);
  assert.equal(after.suggestedPolicy, null);
});
