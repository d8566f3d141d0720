// The machine's kubectl against an in-process daemon (no runtime): explain from the generated schemas,
// create deployment (a protobuf body), run, server-side apply, pages, and pod events in get events and
// describe.
import assert from "node:assert/strict";
import { test } from "node:test";
import { hasKubectl, withKubeApi } from "./test-support.js";

const skip = hasKubectl || process.getuid?.() === 0 ? false : "kubectl is not installed (/usr/bin/kubectl)";

test(
  "kubectl explain walks the fields Shoal validates; create deployment and pages work",
  { skip },
  async () => {
    await withKubeApi(async (f) => {
      const ok = async (args: string[]) => {
        const r = await f.kubectl(args);
        assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
        return r.stdout;
      };
      const rules = await ok(["explain", "authorizationpolicies.spec.rules.to.operation"]);
      assert.match(rules, /^FIELD: operation <Object>$/m);
      for (const field of ["hosts", "methods", "paths", "ports"])
        assert.match(rules, new RegExp(`^  ${field}\\t<\\[\\]string>$`, "m"));
      assert.match(
        await ok(["explain", "deployments.spec.template.spec.containers"]),
        /^ {2}command\t<\[\]string>$/m,
      );
      const missing = await f.kubectl(["explain", "authorizationpolicies.spec.nosuchfield"]);
      assert.notEqual(missing.code, 0);

      await ok(["create", "ns", "foo"]);
      assert.equal(
        await ok([
          "create",
          "deployment",
          "web",
          "--image=nginx",
          "--port=80",
          "-n",
          "foo",
          "--",
          "sleep",
          "1d",
        ]),
        "deployment.apps/web created\n",
      );
      const web = JSON.parse(await ok(["get", "deploy", "web", "-n", "foo", "-o", "json"])) as {
        spec: { replicas: number; template: { spec: { containers: Array<Record<string, unknown>> } } };
      };
      assert.equal(web.spec.replicas, 1);
      assert.deepEqual(web.spec.template.spec.containers[0], {
        name: "nginx",
        image: "nginx",
        command: ["sleep", "1d"],
        ports: [{ containerPort: 80 }],
      });
      for (const n of ["a", "b", "c"]) await ok(["create", "configmap", n, "-n", "foo"]);
      const page = JSON.parse(await ok(["get", "--raw", "/api/v1/namespaces/foo/configmaps?limit=2"])) as {
        items: Array<{ metadata: { name: string } }>;
        metadata: { continue: string };
      };
      assert.deepEqual(
        page.items.map((i) => i.metadata.name),
        ["a", "b"],
      );
      const next = JSON.parse(
        await ok([
          "get",
          "--raw",
          `/api/v1/namespaces/foo/configmaps?limit=2&continue=${page.metadata.continue}`,
        ]),
      ) as { items: Array<{ metadata: { name: string } }>; metadata: { continue?: string } };
      assert.deepEqual(
        next.items.map((i) => i.metadata.name),
        ["c"],
      );
      assert.equal(next.metadata.continue, undefined);
      assert.equal(
        (await ok(["get", "cm", "-n", "foo", "--chunk-size=1", "-o", "name"])).split("\n").length,
        4,
      );
    });
  },
);

test("a pod's scheduling and start are events, shown by get events and describe", { skip }, async () => {
  await withKubeApi(async (f) => {
    const ok = async (args: string[]) => {
      const r = await f.kubectl(args);
      assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
      return r.stdout;
    };
    await ok(["create", "ns", "foo"]);
    const store = f.daemon.store;
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", namespace: "foo" },
      spec: { containers: [{ name: "app", image: "x" }] },
    };
    await store.put(pod);
    await store.put({
      ...store.get({ kind: "Pod", namespace: "foo", name: "p" })!,
      status: { phase: "Running" },
    });
    const events = await ok(["get", "events", "-n", "foo"]);
    assert.match(events, /Normal\s+Scheduled\s+pod\/p\s+Successfully assigned foo\/p to shoal/);
    assert.match(events, /Normal\s+Started\s+pod\/p\s+Started container app/);
    const described = await ok(["describe", "pod", "p", "-n", "foo"]);
    assert.match(described, /Normal\s+Created\s+\S+\s+kubelet\s+Created container app/);
    await store.delete({ kind: "Pod", namespace: "foo", name: "p" });
    assert.match(
      await ok(["get", "events", "-n", "foo"]),
      /Normal\s+Killing\s+pod\/p\s+Stopping container app/,
    );
  });
});

test("kubectl run and kubectl apply --server-side create and update objects", { skip }, async () => {
  await withKubeApi(async (f) => {
    const ok = async (args: string[], stdin?: string) => {
      const r = await f.kubectl(args, stdin === undefined ? {} : { stdin });
      assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
      return r.stdout;
    };
    await ok(["create", "ns", "foo"]);
    assert.equal(
      await ok(["run", "p1", "--image=curl", "-n", "foo", "--", "sleep", "1d"]),
      "pod/p1 created\n",
    );
    const cm = (v: string) =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: foo}\ndata: {a: "${v}"}\n`;
    assert.equal(
      await ok(["apply", "--server-side", "-f", "-"], cm("1")),
      "configmap/c serverside-applied\n",
    );
    assert.equal(
      await ok(["apply", "--server-side", "-f", "-"], cm("2")),
      "configmap/c serverside-applied\n",
    );
    assert.equal(await ok(["get", "cm", "c", "-n", "foo", "-o", "jsonpath={.data.a}"]), "2");
    const bad = await f.kubectl(["apply", "--server-side", "-f", "-"], {
      stdin:
        "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: x, namespace: foo}\nspec: {action: NOPE}\n",
    });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /spec\.action/);
  });
});
