// shoal kube-inject: Pods and Deployment templates get the sidecar, other kinds pass through, the output
// re-applies (validates), injecting twice changes nothing, and opt-outs and bad annotations are honoured.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseManifests } from "../../api/load.js";
import { validateDocument } from "../../api/validate.js";
import { runCli } from "../../testing/cli-harness.js";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function docs(text: string): Obj[] {
  const loaded = parseManifests(text);
  assert.deepEqual(loaded.errors, []);
  return loaded.documents.map((d) => d.object as Obj);
}

test("injects the sample Deployment, leaves the Service and ServiceAccount alone, and the output validates", async () => {
  const r = await runCli(["kube-inject", "-f", "samples/tcp-echo/tcp-echo.yaml"]);
  assert.equal(r.code, 0, r.stderr);
  const out = docs(r.stdout);
  const input = docs(readFileSync("samples/tcp-echo/tcp-echo.yaml", "utf8"));
  assert.deepEqual(
    out.map((d) => d["kind"]),
    ["ServiceAccount", "Service", "Deployment"],
  );
  assert.deepEqual(out[0], input[0]);
  assert.deepEqual(out[1], input[1]);
  const spec = out[2]!["spec"]["template"]["spec"];
  assert.deepEqual(
    spec.containers.map((c: Obj) => c["name"]),
    ["tcp-echo", "istio-proxy"],
  );
  assert.deepEqual(
    spec.initContainers.map((c: Obj) => c["name"]),
    ["istio-init"],
  );
  assert.ok(out[2]!["spec"]["template"]["metadata"]["annotations"]["sidecar.istio.io/status"]);
  for (const d of parseManifests(r.stdout).documents) {
    const v = validateDocument(d, { defaultNamespace: "foo" });
    assert.deepEqual(v.errors, [], JSON.stringify(v.errors));
  }
});

test("kube-inject of its own output is the same output", async () => {
  const once = await runCli(["kube-inject", "-f", "samples/tcp-echo/tcp-echo.yaml"]);
  const twice = await runCli(["kube-inject", "-f", "-"], once.stdout);
  assert.equal(twice.code, 0, twice.stderr);
  assert.equal(twice.stdout, once.stdout);
});

test("a Pod opting out keeps no sidecar; a bare Pod is injected; -o json prints a List", async () => {
  const text = [
    'apiVersion: v1\nkind: Pod\nmetadata:\n  name: legacy\n  annotations:\n    sidecar.istio.io/inject: "false"\nspec:\n  containers:\n  - name: curl\n    image: curlimages/curl\n',
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: curl\nspec:\n  containers:\n  - name: curl\n    image: curlimages/curl\n",
  ].join("---\n");
  const r = await runCli(["kube-inject", "-f", "-", "-o", "json"], text);
  assert.equal(r.code, 0, r.stderr);
  const list = JSON.parse(r.stdout) as Obj;
  assert.equal(list["kind"], "List");
  assert.deepEqual(
    list["items"][0]["spec"]["containers"].map((c: Obj) => c["name"]),
    ["curl"],
  );
  assert.equal(list["items"][0]["spec"]["initContainers"], undefined);
  assert.deepEqual(
    list["items"][1]["spec"]["containers"].map((c: Obj) => c["name"]),
    ["curl", "istio-proxy"],
  );
});

test("capture annotations end up in istio-init's arguments; bad ones are an error with exit 1", async () => {
  const dir = mkdtempSync(join(tmpdir(), "shoal-kube-inject-"));
  try {
    const pod = (value: string) =>
      `apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n    traffic.sidecar.istio.io/excludeInboundPorts: "${value}"\nspec:\n  containers:\n  - name: web\n    image: httpbin\n`;
    writeFileSync(join(dir, "good.yaml"), pod("8081"));
    const good = await runCli(["kube-inject", "-f", join(dir, "good.yaml")]);
    assert.equal(good.code, 0, good.stderr);
    const args = docs(good.stdout)[0]!["spec"]["initContainers"][0]["args"] as string[];
    assert.equal(args[args.indexOf("-d") + 1], "15090,15021,15020,8081");
    writeFileSync(join(dir, "bad.yaml"), pod("80x"));
    const bad = await runCli(["kube-inject", "-f", join(dir, "bad.yaml")]);
    assert.equal(bad.code, 1);
    assert.equal(bad.stdout, "");
    assert.match(
      bad.stderr,
      /bad\.yaml: Pod web: istio-iptables --istio-local-exclude-ports: "80x" is not a port/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("usage mistakes and unreadable input", async () => {
  assert.equal((await runCli(["kube-inject"])).code, 2);
  assert.equal((await runCli(["kube-inject", "-f", "-", "-o", "wide"], "")).code, 2);
  const missing = await runCli(["kube-inject", "-f", "/nonexistent/x.yaml"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /does not exist/);
  const broken = await runCli(["kube-inject", "-f", "-"], "kind: Pod\nspec: [");
  assert.equal(broken.code, 1);
});
