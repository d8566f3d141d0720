import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "../../testing/cli-harness.js";

test("shoal analyze on samples: no errors, and the S1 step-2/step-3 policies get the TCP warning", async () => {
  // Both steps name their policy tcp-policy: analyzed together, the later would replace the earlier (as
  // applying them in order does), so each step is analyzed with the workloads on its own.
  const step = (file: string) =>
    runCli(["analyze", "-f", "samples/tcp-echo", "-f", `samples/policies/${file}`, "-n", "foo"]);
  const step2 = await step("s1-step2-allow-get-9000.yaml");
  assert.equal(step2.code, 0, step2.stderr);
  const lines2 = step2.stdout.trim().split("\n");
  assert.equal(lines2.length, 1, step2.stdout);
  assert.match(lines2[0]!, /s1-step2-allow-get-9000\.yaml/);
  assert.match(lines2[0]!, /drops the whole ALLOW rule/);
  const step3 = await step("s1-step3-deny-get.yaml");
  const lines3 = step3.stdout.trim().split("\n");
  assert.equal(lines3.length, 1, step3.stdout);
  assert.match(lines3[0]!, /s1-step3-deny-get\.yaml/);
  assert.match(lines3[0]!, /DENY rule matches every connection/);
  const all = await runCli(["analyze", "-f", "samples/"]);
  assert.equal(all.code, 0);
  assert.doesNotMatch(all.stdout, /^Error/m);
});

test("a clean namespace prints istioctl's check line", async () => {
  const r = await runCli([
    "analyze",
    "-f",
    "samples/tcp-echo",
    "-f",
    "samples/policies/s1-step1-allow-ports.yaml",
    "-n",
    "foo",
  ]);
  assert.equal(r.stdout, "\u2714 No validation issues found when analyzing namespace: foo.\n");
  assert.equal(r.code, 0);
});

test("garbage input is a clear error with exit 1, never a stack trace", async () => {
  const dir = mkdtempSync(join(tmpdir(), "shoal-analyze-"));
  try {
    const cases: Record<string, string | Buffer> = {
      "binary.yaml": Buffer.from([0, 1, 2, 255, 254, 0, 10]),
      "truncated.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: [x",
      "types.yaml": "apiVersion: 7\nkind: [AuthorizationPolicy]\nmetadata: 3\nspec: no\n",
      "wrong-types.yaml":
        "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: x}\nspec: {action: 3, rules: {a: 1}, selector: []}\n",
      "deep.yaml": `a: ${"[".repeat(5000)}${"]".repeat(5000)}\n`,
      "big.yaml": `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  k: "${"x".repeat(10 * 1024 * 1024)}"\n  k: dup\n`,
    };
    for (const [name, content] of Object.entries(cases)) {
      const file = join(dir, name);
      writeFileSync(file, content);
      const r = await runCli(["analyze", "-f", file]);
      assert.equal(r.code, 1, `${name}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /^Error \[IST0106\]/m, name);
      assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /, `${name} printed a stack trace`);
    }
    const missing = await runCli(["analyze", "-f", join(dir, "nope.yaml")]);
    assert.equal(missing.code, 1);
    assert.match(missing.stdout, /does not exist/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("stdin and -o json", async () => {
  const r = await runCli(
    ["analyze", "-f", "-", "-o", "json"],
    "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 80, name: web}]}\n",
  );
  assert.equal(r.code, 0);
  const rows = JSON.parse(r.stdout) as Array<{ code: string; origin: string; level: string }>;
  assert.deepEqual(
    rows.map((x) => [x.code, x.level, x.origin]),
    [["IST0118", "Warning", "Service default/s"]],
  );
});

test("usage errors exit 2", async () => {
  assert.equal((await runCli(["analyze", "-n", "a", "-A", "-f", "x"])).code, 2);
  assert.equal((await runCli(["analyze", "-f", "x", "--bogus"])).code, 2);
});
