import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { commandOnlyResolver } from "../../controlplane/controllers/containers.js";
import { startDaemon } from "../../controlplane/daemon.js";
import { RecordingRuntime } from "../../controlplane/runtime-port.js";
import { dispatch } from "../dispatch.js";
import type { CliIo } from "../io.js";

function capture(stdin = ""): CliIo & { out: string; err: string } {
  const io = {
    out: "",
    err: "",
    stdout: (t: string) => void (io.out += t),
    stderr: (t: string) => void (io.err += t),
    readStdin: async () => stdin,
  };
  return io;
}

async function shoal(args: string[], stdin = "") {
  const io = capture(stdin);
  const code = await dispatch(args, io);
  return { code, out: io.out, err: io.err };
}

const app = `apiVersion: apps/v1
kind: Deployment
metadata: {name: curl}
spec:
  replicas: 2
  selector: {matchLabels: {app: curl}}
  template:
    metadata: {labels: {app: curl}}
    spec:
      containers: [{name: curl, image: curl, command: ["sleep", "infinity"]}]
---
apiVersion: v1
kind: Service
metadata: {name: curl, labels: {app: curl}}
spec:
  selector: {app: curl}
  ports: [{name: http, port: 80}]
`;

test("apply, get (tables, name, jsonpath), label, rollout restart and delete against a daemon", async () => {
  const dir = await mkdtemp(join(tmpdir(), "shoal-cli-"));
  process.env["SHOAL_STATE_DIR"] = dir;
  const d = await startDaemon({
    stateDir: dir,
    runtime: new RecordingRuntime(),
    resolve: commandOnlyResolver,
    log: () => {},
  });
  try {
    assert.deepEqual(await shoal(["create", "namespace", "foo"]), {
      code: 0,
      out: "namespace/foo created\n",
      err: "",
    });
    assert.equal((await shoal(["create", "namespace", "foo"])).code, 1);
    const applied = await shoal(["apply", "-f", "-", "-n", "foo"], app);
    assert.equal(applied.out, "deployment.apps/curl created\nservice/curl created\n");
    await d.reconciler.idle();
    const names = await shoal(["get", "po", "-l", "app=curl", "-n", "foo", "-o", "name"]);
    assert.match(names.out, /^pod\/curl-\w{10}-\w{5}\npod\/curl-\w{10}-\w{5}\n$/);
    assert.match(
      (await shoal(["get", "deploy", "-n", "foo"])).out,
      /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\ncurl\s+2\/2\s+2\s+2\s+\d+s\n$/,
    );
    const table = await shoal(["get", "pods", "-n", "foo", "-o", "wide"]);
    assert.match(table.out, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\n/);
    assert.match(table.out, /1\/1\s+Running\s+0\s+\d+s\s+10\.244\.0\.\d/);
    const first = await shoal(["get", "pods", "-n", "foo", "-o", "jsonpath={.items[0].metadata.name}"]);
    const ip = await shoal(["get", "pod", first.out, "-n", "foo", "-o", "jsonpath={.status.podIP}"]);
    assert.match(ip.out, /^10\.244\.0\.\d+$/);
    const svc = await shoal(["get", "svc", "-A"]);
    assert.match(svc.out, /^NAMESPACE\s+NAME\s+TYPE\s+CLUSTER-IP/);
    assert.match(svc.out, /foo\s+curl\s+ClusterIP\s+10\.96\.0\.2/);
    assert.equal(
      (await shoal(["get", "pods", "-n", "empty"])).err,
      "No resources found in empty namespace.\n",
    );
    assert.equal((await shoal(["get", "nonsense"])).code, 2);

    assert.equal(
      (await shoal(["label", "namespace", "foo", "istio-injection=enabled"])).out,
      "namespace/foo labeled\n",
    );
    assert.equal((await shoal(["label", "ns", "foo", "istio-injection=disabled"])).code, 2);
    assert.equal((await shoal(["label", "ns", "foo", "istio-injection=disabled", "--overwrite"])).code, 0);
    assert.match((await shoal(["get", "ns", "foo", "-o", "yaml"])).out, /istio-injection: disabled/);

    const before = names.out;
    assert.equal(
      (await shoal(["rollout", "restart", "deployment", "curl", "-n", "foo"])).out,
      "deployment.apps/curl restarted\n",
    );
    await d.reconciler.idle();
    const after = await shoal(["get", "po", "-n", "foo", "-o", "name"]);
    assert.equal(after.out.split("\n").filter(Boolean).length, 2);
    for (const n of before.split("\n").filter(Boolean))
      assert.ok(!after.out.includes(n), "old pods replaced");

    const bad = await shoal(
      ["apply", "-f", "-", "-n", "foo"],
      "apiVersion: v1\nkind: Service\nmetadata: {name: Bad_Name}\n",
    );
    assert.equal(bad.code, 1);
    assert.match(bad.err, /Service foo\/Bad_Name: metadata.name/);
    assert.match(bad.err, /nothing was applied/);

    const file = join(dir, "app.yaml");
    await writeFile(file, app);
    const del = await shoal(["delete", "-f", file, "-n", "foo"]);
    assert.equal(del.out, 'deployment.apps "curl" deleted\nservice "curl" deleted\n');
    assert.equal((await shoal(["delete", "svc", "curl", "-n", "foo"])).code, 1);
    await d.reconciler.idle();
    assert.equal((await shoal(["get", "po", "-n", "foo", "-o", "name"])).out, "");
  } finally {
    await d.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test("commands say clearly when no cluster is running", async () => {
  const dir = await mkdtemp(join(tmpdir(), "shoal-cli-"));
  process.env["SHOAL_STATE_DIR"] = dir;
  try {
    const r = await shoal(["get", "pods"]);
    assert.equal(r.code, 1);
    assert.match(r.err, /no cluster is running .*shoal up/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("analyze without -f reads the live cluster, namespace default unless -n or -A", async () => {
  const dir = await mkdtemp(join(tmpdir(), "shoal-cli-"));
  process.env["SHOAL_STATE_DIR"] = dir;
  const d = await startDaemon({
    stateDir: dir,
    runtime: new RecordingRuntime(),
    resolve: commandOnlyResolver,
    log: () => {},
  });
  try {
    assert.equal((await shoal(["create", "namespace", "foo"])).code, 0);
    assert.equal((await shoal(["apply", "-f", "samples/tcp-echo", "-n", "foo"])).code, 0);
    assert.equal((await shoal(["apply", "-f", "samples/policies/s1-step2-allow-get-9000.yaml"])).code, 0);
    const clean = await shoal(["analyze"]);
    assert.deepEqual(clean, {
      code: 0,
      out: "\u2714 No validation issues found when analyzing namespace: default.\n",
      err: "",
    });
    const foo = await shoal(["analyze", "-n", "foo"]);
    assert.equal(foo.code, 0);
    assert.match(
      foo.out,
      /^Warning \[SHOAL0101\] \(AuthorizationPolicy foo\/tcp-policy\) .*TCP port 9000 .*drops the whole ALLOW rule/m,
    );
    assert.match((await shoal(["analyze", "-A"])).out, /SHOAL0101/);
  } finally {
    await d.stop();
    delete process.env["SHOAL_STATE_DIR"];
    await rm(dir, { recursive: true, force: true });
  }
});
