// The machine's kubectl against an in-process daemon serving the Kubernetes API (no runtime).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { RecordingRuntime } from "../runtime-port.js";
import type { PodExec } from "./backend.js";
import { hasKubectl, withKubeApi } from "./test-support.js";

// Where the project's tests run as root (CI), a missing kubectl is a failure, not a skip: these tests are
// the proof that the real kubectl works.
const asRoot = process.getuid?.() === 0;
const skip = hasKubectl || asRoot ? false : "kubectl is not installed (/usr/bin/kubectl)";
test("the machine's kubectl is there to test against", { skip: !asRoot }, () => {
  assert.ok(hasKubectl, "kubectl is not installed (/usr/bin/kubectl): the Kubernetes API tests need it");
});

const manifests = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: tcp-policy, namespace: foo}
spec:
  selector: {matchLabels: {app: tcp-echo}}
  action: ALLOW
  rules: [{to: [{operation: {ports: ["9000", "9001"]}}]}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: curl, namespace: foo}
spec:
  selector: {matchLabels: {app: curl}}
  template:
    metadata: {labels: {app: curl}}
    spec:
      containers: [{name: curl, image: curl, command: ["sleep", "infinity"]}]
`;

const badPolicy = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: bad-policy, namespace: foo}
spec:
  rules: [{to: [{operation: {ports: ["90x1"]}}]}]
`;

test("kubectl creates, applies, lists, prints and deletes through the API", { skip }, async () => {
  await withKubeApi(async (f) => {
    const ok = async (args: string[], stdin?: string) => {
      const r = await f.kubectl(args, stdin === undefined ? {} : { stdin });
      assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
      return r.stdout;
    };
    assert.match(await ok(["version"]), /Server Version: v1\.32/);
    assert.equal(await ok(["create", "ns", "foo"]), "namespace/foo created\n");
    const file = join(f.dir, "m.yaml");
    await writeFile(file, manifests);
    assert.equal(
      await ok(["apply", "-f", file]),
      "authorizationpolicy.security.istio.io/tcp-policy created\ndeployment.apps/curl created\n",
    );
    assert.equal(
      await ok(["apply", "-f", file]),
      "authorizationpolicy.security.istio.io/tcp-policy unchanged\ndeployment.apps/curl unchanged\n",
    );
    const stored = f.daemon.store.get({ kind: "AuthorizationPolicy", namespace: "foo", name: "tcp-policy" });
    assert.ok(stored?.metadata.annotations?.["kubectl.kubernetes.io/last-applied-configuration"]);
    await f.daemon.reconciler.idle();
    const pod = f.daemon.store.list({ kind: "Pod", namespace: "foo" })[0]!;
    const pods = await ok(["get", "pods", "-A"]);
    assert.match(pods.split("\n")[0]!, /^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    assert.match(pods, new RegExp(`foo\\s+${pod.metadata.name}\\s+1/1\\s+Running\\s+0\\s+\\d+s`));
    const wide = await ok(["get", "pods", "-n", "foo", "-o", "wide"]);
    assert.match(wide, /IP\s+NODE/);
    assert.match(wide, /10\.244\.\d+\.\d+/);
    assert.match(await ok(["get", "ap", "-n", "foo"]), /NAME\s+ACTION\s+AGE\ntcp-policy\s+ALLOW\s+/);
    assert.match(await ok(["get", "deploy", "-n", "foo"]), /curl\s+1\/1\s+1\s+1\s+/);
    assert.equal(await ok(["get", "ap", "-A", "-o", "jsonpath={.items..metadata.name}"]), "tcp-policy");
    assert.equal(
      JSON.parse(await ok(["get", "ap", "tcp-policy", "-n", "foo", "-o", "json"])).spec.action,
      "ALLOW",
    );
    assert.match(await ok(["get", "ap", "tcp-policy", "-n", "foo", "-o", "yaml"]), /ports:\n\s+- "9000"/);
    assert.equal(
      await ok(["get", "pods", "-n", "foo", "-l", "app=curl", "-o", "name"]),
      `pod/${pod.metadata.name}\n`,
    );
    assert.equal(
      await ok(["get", "pods", "-A", "--field-selector", `metadata.name=${pod.metadata.name}`, "-o", "name"]),
      `pod/${pod.metadata.name}\n`,
    );
    assert.equal(
      await ok(["get", "pods", "-A", "--field-selector", "metadata.namespace=nope", "-o", "name"]),
      "",
    );
    const crds = await ok(["get", "crd"]);
    assert.match(crds, /^NAME\s+CREATED AT\n/);
    assert.match(crds, /authorizationpolicies\.security\.istio\.io/);
    assert.match(crds, /virtualservices\.networking\.istio\.io/);
    const resources = await ok(["api-resources"]);
    assert.match(resources, /virtualservices\s+vs\s+networking\.istio\.io\/v1\s+true\s+VirtualService/);
    assert.match(resources, /pods\s+po\s+v1\s+true\s+Pod/);
    assert.equal(
      await ok(["label", "namespace", "foo", "istio-injection=enabled"]),
      "namespace/foo labeled\n",
    );
    assert.equal(
      f.daemon.store.get({ kind: "Namespace", name: "foo" })?.metadata.labels?.["istio-injection"],
      "enabled",
    );
    assert.equal(
      await ok(["patch", "deploy", "curl", "-n", "foo", "-p", '{"spec":{"replicas":2}}']),
      "deployment.apps/curl patched\n",
    );
    assert.equal(
      f.daemon.store.get({ kind: "Deployment", namespace: "foo", name: "curl" })?.["spec"] instanceof Object,
      true,
    );
    assert.equal(await ok(["get", "deploy", "curl", "-n", "foo", "-o", "jsonpath={.spec.replicas}"]), "2");
    assert.equal(
      await ok(["delete", "ap", "tcp-policy", "-n", "foo"]),
      'authorizationpolicy.security.istio.io "tcp-policy" deleted\n',
    );
    const again = await f.kubectl(["delete", "ap", "tcp-policy", "-n", "foo"]);
    assert.equal(again.code, 1);
    assert.match(
      again.stderr,
      /Error from server \(NotFound\): authorizationpolicies\.security\.istio\.io "tcp-policy" not found/,
    );
    assert.equal(await ok(["delete", "ns", "foo", "--timeout=20s"]), 'namespace "foo" deleted\n');
    assert.equal(f.daemon.store.get({ kind: "Namespace", name: "foo" }), undefined);
    assert.deepEqual(f.daemon.store.list({ namespace: "foo" }), []);
  });
});

test(
  "kubectl gets Kubernetes errors: field-level validation, unknown kinds, conflicts; nothing is stored",
  { skip },
  async () => {
    await withKubeApi(async (f) => {
      await f.kubectl(["create", "ns", "foo"]);
      const before = f.daemon.store.resourceVersion;
      const bad = await f.kubectl(["apply", "-f", "-"], { stdin: badPolicy });
      assert.equal(bad.code, 1);
      assert.match(
        bad.stderr,
        /AuthorizationPolicy "bad-policy" is invalid: spec\.rules\[0\]\.to\[0\]\.operation\.ports\[0\]: .*"90x1" is not a port/,
      );
      const unknown = await f.kubectl(["apply", "-f", "-"], {
        stdin: "apiVersion: networking.istio.io/v1\nkind: WorkloadGroup\nmetadata: {name: x}\nspec: {}\n",
      });
      assert.equal(unknown.code, 1);
      assert.match(
        unknown.stderr,
        /no matches for kind "WorkloadGroup" in version "networking.istio.io\/v1"/,
      );
      const noNs = await f.kubectl(["apply", "-n", "nope", "-f", "-"], {
        stdin: "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa1}\n",
      });
      assert.match(noNs.stderr, /\(NotFound\).*namespaces "nope" not found/);
      assert.equal(f.daemon.store.resourceVersion, before, "nothing was stored");
      assert.match(
        (await f.kubectl(["create", "ns", "default"])).stderr,
        /\(AlreadyExists\): namespaces "default" already exists/,
      );
      assert.match(
        (await f.kubectl(["delete", "ns", "default"])).stderr,
        /\(Forbidden\).*may not be deleted/,
      );
      assert.match((await f.kubectl(["get", "pod", "nope"])).stderr, /\(NotFound\): pods "nope" not found/);
    });
  },
);

test("kubectl get --watch prints changes as they happen", { skip }, async () => {
  await withKubeApi(async (f) => {
    const watching = f.kubectl(["get", "ap", "-A", "--watch", "--request-timeout=3s"]);
    // The watch starts from the list's version, so a change made any time after the list is seen.
    for (let i = 0; i < 50 && f.daemon.kubeApi!.watchers() === 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    const created = await f.kubectl(["apply", "-f", "-"], {
      stdin:
        "apiVersion: security.istio.io/v1beta1\nkind: AuthorizationPolicy\nmetadata: {name: a1}\nspec: {action: ALLOW}\n",
    });
    assert.equal(created.code, 0, created.stderr);
    const r = await watching;
    assert.match(r.stdout, /NAMESPACE\s+NAME\s+ACTION\s+AGE\ndefault\s+a1\s+ALLOW/);
  });
});

test("kubectl logs reads a container's log, with --tail", { skip }, async () => {
  const runtime = new (class extends RecordingRuntime {
    file = "";
    logFile(): string {
      return this.file;
    }
  })();
  await withKubeApi(
    async (f) => {
      runtime.file = join(f.dir, "curl.log");
      await writeFile(runtime.file, "one\ntwo\nthree\n");
      await f.kubectl(["create", "ns", "foo"]);
      await f.kubectl(["apply", "-f", "-"], { stdin: manifests });
      await f.daemon.reconciler.idle();
      const pod = f.daemon.store.list({ kind: "Pod", namespace: "foo" })[0]!.metadata.name;
      assert.equal((await f.kubectl(["logs", "-n", "foo", pod])).stdout, "one\ntwo\nthree\n");
      assert.equal((await f.kubectl(["logs", "-n", "foo", pod, "--tail=2"])).stdout, "two\nthree\n");
      assert.equal((await f.kubectl(["logs", "-n", "foo", pod, "-c", "curl", "--tail=1"])).stdout, "three\n");
      assert.match(
        (await f.kubectl(["logs", "-n", "foo", pod, "-c", "nope"])).stderr,
        /container nope is not valid/,
      );
    },
    { runtime },
  );
});

test("kubectl exec runs over WebSocket: output, stdin and the exit code come through", { skip }, async () => {
  // The pod's command runs on the host here (no network namespaces in unit tests); the channel protocol is real.
  const exec: PodExec = async (o) => {
    const child = spawn(o.command[0]!, o.command.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
    if (o.stdin) o.stdin.pipe(child.stdin);
    else child.stdin.end();
    child.stdout.on("data", o.stdout);
    child.stderr.on("data", o.stderr);
    return new Promise((resolve) => child.once("close", (code) => resolve(code ?? 1)));
  };
  await withKubeApi(
    async (f) => {
      await f.kubectl(["apply", "-f", "-"], {
        stdin:
          "apiVersion: v1\nkind: Pod\nmetadata: {name: p1}\nspec: {containers: [{name: c, image: x, command: [sleep, infinity]}]}\n",
      });
      const r = await f.kubectl(["exec", "p1", "--", "sh", "-c", "echo hi; echo oops >&2; exit 3"]);
      assert.equal(r.code, 3);
      assert.equal(r.stdout, "hi\n");
      assert.match(r.stderr, /^oops\ncommand terminated with exit code 3/);
      const cat = await f.kubectl(["exec", "-i", "p1", "-c", "c", "--", "cat"], { stdin: "from stdin\n" });
      assert.deepEqual([cat.code, cat.stdout], [0, "from stdin\n"]);
      assert.match((await f.kubectl(["exec", "nope", "--", "true"])).stderr, /pods "nope" not found/);
    },
    { kubeApi: { exec } },
  );
});
