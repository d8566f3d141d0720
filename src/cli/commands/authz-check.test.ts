import assert from "node:assert/strict";
import { test } from "node:test";
import { runCli } from "../../testing/cli-harness.js";

interface Json {
  decision: string;
  policy: string | null;
  rule: number | null;
  reason: string;
  mtlsMode: string;
}

async function check(files: string[], args: string[]): Promise<Json> {
  const r = await runCli(["x", "authz", "check", ...files.flatMap((f) => ["-f", f]), ...args, "-o", "json"]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Json;
}

const CURL = "cluster.local/ns/foo/sa/curl";
const S1_WORKLOADS = ["samples/tcp-echo", "samples/curl"];
const S1_STEPS: Array<[string | undefined, Record<number, "ALLOW" | "DENY">]> = [
  [undefined, { 9000: "ALLOW", 9001: "ALLOW", 9002: "ALLOW" }],
  ["s1-step1-allow-ports.yaml", { 9000: "ALLOW", 9001: "ALLOW", 9002: "DENY" }],
  ["s1-step2-allow-get-9000.yaml", { 9000: "DENY", 9001: "DENY", 9002: "DENY" }],
  ["s1-step3-deny-get.yaml", { 9000: "DENY", 9001: "DENY", 9002: "DENY" }],
  ["s1-step4-deny-get-9000.yaml", { 9000: "DENY", 9001: "ALLOW", 9002: "ALLOW" }],
];

test("S1: every row of the TCP authorization scenario", async () => {
  for (const [policy, want] of S1_STEPS) {
    const files = policy ? [...S1_WORKLOADS, `samples/policies/${policy}`] : S1_WORKLOADS;
    for (const [port, decision] of Object.entries(want)) {
      const got = await check(files, ["--pod", "tcp-echo.foo", "--port", port, "--from-principal", CURL]);
      assert.equal(got.decision, decision, `${policy ?? "no policy"} port ${port}: ${got.reason}`);
    }
  }
});

test("S1: the decisions name the rule, and say when HTTP fields were dropped or ignored", async () => {
  const step2 = await check(
    [...S1_WORKLOADS, "samples/policies/s1-step2-allow-get-9000.yaml"],
    ["--pod", "tcp-echo.foo", "--port", "9000", "--from-principal", CURL],
  );
  assert.match(step2.reason, /dropped: HTTP-only field `methods` on TCP port 9000/);
  const step4 = await check(
    [...S1_WORKLOADS, "samples/policies/s1-step4-deny-get-9000.yaml"],
    ["--pod", "tcp-echo.foo", "--port", "9000", "--from-principal", CURL],
  );
  assert.deepEqual([step4.policy, step4.rule], ["foo/tcp-policy", 0]);
  const text = await runCli([
    "x",
    "authz",
    "check",
    "-f",
    "samples/tcp-echo",
    "-f",
    "samples/policies/s1-step3-deny-get.yaml",
    "--pod",
    "tcp-echo.foo",
    "--port",
    "9001",
    "--from-principal",
    CURL,
  ]);
  assert.match(text.stdout, /^DENY by foo\/tcp-policy rule 0$/m);
  assert.match(text.stdout, /narrowed: HTTP-only field `methods` ignored on TCP port 9001/);
  assert.match(text.stdout, /rbac_access_denied_matched_policy\[ns\[foo\]-policy\[tcp-policy\]-rule\[0\]\]/);
});

test("S3: deny-all, then allow by identity, method and path", async () => {
  const base = ["samples/bookinfo"];
  const denyAll = [...base, "samples/policies/s3-step1-deny-all.yaml"];
  const viewer = [...denyAll, "samples/policies/s3-step2-details-viewer.yaml"];
  const from = [
    "--pod",
    "details.default",
    "--port",
    "9080",
    "--from-principal",
    "cluster.local/ns/default/sa/bookinfo-productpage",
  ];
  const rows: Array<[string[], string, string, string]> = [
    [base, "GET", "/details/0", "ALLOW"],
    [denyAll, "GET", "/details/0", "DENY"],
    [viewer, "GET", "/details/0", "ALLOW"],
    [viewer, "POST", "/details/0", "DENY"],
    [viewer, "GET", "/ping", "DENY"],
    [viewer, "GET", "/details/../admin", "DENY"],
  ];
  for (const [files, method, path, want] of rows) {
    const got = await check(files, [...from, "--method", method, "--path", path]);
    assert.equal(got.decision, want, `${files.at(-1)} ${method} ${path}: ${got.reason}`);
  }
  const other = await check(viewer, [
    "--pod",
    "details.default",
    "--port",
    "9080",
    "--from-principal",
    "cluster.local/ns/default/sa/other",
    "--path",
    "/details/0",
  ]);
  assert.equal(other.decision, "DENY");
});

test("S2: peer-authentication modes per namespace and step; plaintext against STRICT is denied", async () => {
  const w = ["samples/httpbin"];
  const steps: Array<[string[], Record<string, string>]> = [
    [[], { foo: "PERMISSIVE", bar: "PERMISSIVE" }],
    [["samples/policies/s2-step1-foo-strict.yaml"], { foo: "STRICT", bar: "PERMISSIVE" }],
    [
      ["samples/policies/s2-step1-foo-strict.yaml", "samples/policies/s2-step2-mesh-strict.yaml"],
      { foo: "STRICT", bar: "STRICT" },
    ],
    [["samples/policies/s2-step2-mesh-strict.yaml"], { foo: "STRICT", bar: "STRICT" }],
  ];
  for (const [policies, modes] of steps) {
    for (const [ns, mode] of Object.entries(modes)) {
      const legacy = await check(
        [...w, ...policies],
        ["--pod", `httpbin.${ns}`, "--port", "8080", "--plaintext", "-n", ns],
      );
      assert.equal(legacy.mtlsMode, mode, `${policies.join("+")} ${ns}`);
      assert.equal(legacy.decision, mode === "STRICT" ? "DENY" : "ALLOW");
      if (mode === "STRICT") assert.match(legacy.reason, /mTLS required/);
      const mesh = await check(
        [...w, ...policies],
        [
          "--pod",
          `httpbin.${ns}`,
          "--port",
          "8080",
          "--from-principal",
          "cluster.local/ns/bar/sa/curl",
          "-n",
          ns,
        ],
      );
      assert.equal(mesh.decision, "ALLOW");
    }
  }
});

test("bad arguments are usage errors; an unknown workload is a clear error", async () => {
  assert.equal(
    (await runCli(["x", "authz", "check", "-f", "samples/tcp-echo", "--pod", "tcp-echo.foo"])).code,
    2,
  );
  assert.equal(
    (await runCli(["x", "authz", "check", "-f", "samples/tcp-echo", "--pod", "x.foo", "--port", "0"])).code,
    2,
  );
  const missing = await runCli([
    "x",
    "authz",
    "check",
    "-f",
    "samples/tcp-echo",
    "--pod",
    "nope.foo",
    "--port",
    "9000",
  ]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no Pod or Deployment "nope.foo".*found: tcp-echo.foo/);
});
