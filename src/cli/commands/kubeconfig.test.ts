import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { parse } from "yaml";
import { hasKubectl, withKubeApi } from "../../controlplane/kube-api/test-support.js";
import { dispatch } from "../dispatch.js";
import type { CliIo } from "../io.js";

function capture(): CliIo & { out: string[] } {
  const out: string[] = [];
  return { out, stdout: (t) => void out.push(t), stderr: (t) => void out.push(t), readStdin: async () => "" };
}

test("shoal kubeconfig prints a kubeconfig kubectl can use; up/down's context install and removal", async () => {
  await withKubeApi(async (f) => {
    const stateDir = join(f.dir, "state");
    const io = capture();
    assert.equal(await dispatch(["kubeconfig", "--state-dir", stateDir], io), 0);
    const printed = io.out.join("");
    const cfg = parse(printed);
    assert.equal(cfg["current-context"], "shoal");
    assert.equal(cfg.clusters[0].cluster.server, f.daemon.kubeApi!.url);
    if (hasKubectl) {
      const file = join(f.dir, "printed");
      await writeFile(file, printed);
      const r = await f.kubectl([`--kubeconfig=${file}`, "get", "ns", "-o", "name"]);
      assert.equal(r.stdout, "namespace/default\nnamespace/istio-system\n", r.stderr);
    }
    const { installKubeconfig, uninstallKubeconfig } = await import("./kubeconfig.js");
    const user = join(f.dir, "user-config");
    await writeFile(
      user,
      "apiVersion: v1\nkind: Config\ncontexts: [{name: other, context: {cluster: o, user: o}}]\ncurrent-context: other\n",
    );
    process.env["KUBECONFIG"] = user;
    try {
      await installKubeconfig(stateDir, capture());
      const installed = parse(await readFile(user, "utf8"));
      assert.equal(installed["current-context"], "shoal");
      assert.deepEqual(
        installed.contexts.map((c: { name: string }) => c.name),
        ["other", "shoal"],
      );
      await uninstallKubeconfig(capture());
      const removed = parse(await readFile(user, "utf8"));
      assert.deepEqual(
        removed.contexts.map((c: { name: string }) => c.name),
        ["other"],
      );
    } finally {
      delete process.env["KUBECONFIG"];
    }
  });
});
