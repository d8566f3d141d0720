import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { commandOnlyResolver } from "../../controlplane/controllers/containers.js";
import { startDaemon } from "../../controlplane/daemon.js";
import { RecordingRuntime } from "../../controlplane/runtime-port.js";
import { runCli } from "../../testing/cli-harness.js";

const TUTORIAL_IOP = `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata:
  name: egressgateway-operator
spec:
  profile: empty
  revision: default
  components:
    egressGateways:
    - name: istio-egressgateway
      namespace: istio-egress
      enabled: true
  values:
    gateways:
      istio-egressgateway:
        injectionTemplate: gateway
        tolerations:
          - key: "dedicated"
            operator: "Equal"
            value: "gateway"
`;

test("install, manifest generate --output + apply, uninstall against a daemon", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "shoal-install-"));
  process.env["SHOAL_STATE_DIR"] = dir;
  const d = await startDaemon({
    stateDir: dir,
    runtime: new RecordingRuntime(),
    resolve: commandOnlyResolver,
    log: () => {},
  });
  t.after(async () => {
    await d.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const installed = await runCli(["install", "--set", "profile=demo", "-y"]);
  assert.equal(installed.code, 0, installed.stderr);
  assert.equal(
    installed.stdout,
    "✔ Ingress gateways installed\n✔ Egress gateways installed\n✔ Installation complete\n",
  );
  await d.reconciler.idle();
  // Injection made the pods gateways: the proxy in router mode is the only container.
  const pod = await runCli([
    "get",
    "pods",
    "-n",
    "istio-system",
    "-l",
    "istio=ingressgateway",
    "-o",
    "jsonpath={.items[0].spec.containers[*].name} {.items[0].spec.containers[0].args}",
  ]);
  assert.equal(pod.stdout.trim(), 'istio-proxy ["proxy","router"]');
  const svc = await runCli([
    "get",
    "svc",
    "istio-egressgateway",
    "-n",
    "istio-system",
    "-o",
    "jsonpath={.spec.ports[*].targetPort}",
  ]);
  assert.equal(svc.stdout.trim(), "8080 8443");

  // The tutorial's way: generate into a directory, apply the directory (its namespace made first).
  const out = join(dir, "egressgateway");
  const iop = join(dir, "egressgateway-operator.yaml");
  await writeFile(iop, TUTORIAL_IOP);
  const gen = await runCli([
    "manifest",
    "generate",
    "--filename",
    iop,
    "--output",
    out,
    "--cluster-specific",
  ]);
  assert.deepEqual([gen.code, gen.stderr], [0, ""]);
  assert.equal((await runCli(["create", "namespace", "istio-egress"])).code, 0);
  const applied = await runCli(["apply", "-f", out]);
  assert.equal(applied.code, 0, applied.stderr);
  assert.equal(
    applied.stdout,
    "serviceaccount/istio-egressgateway-service-account created\ndeployment.apps/istio-egressgateway created\nservice/istio-egressgateway created\n",
  );
  await d.reconciler.idle();
  const tol = await runCli(["get", "pods", "-n", "istio-egress", "-l", "istio=egressgateway", "-o", "json"]);
  const egressPod = (JSON.parse(tol.stdout) as { items: Array<Record<string, any>> }).items[0]!; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.deepEqual(egressPod["spec"].tolerations, [
    { key: "dedicated", operator: "Equal", value: "gateway" },
  ]);
  assert.equal(egressPod["metadata"].labels["istio.io/rev"], "default");

  const removed = await runCli(["uninstall", "--purge", "-y"]);
  assert.equal(removed.code, 0, removed.stderr);
  assert.match(removed.stdout, /deployment\/istio-ingressgateway deleted \(istio-system\)/);
  assert.match(removed.stdout, /service\/istio-egressgateway deleted \(istio-system\)/);
  const left = await runCli(["get", "deploy", "-n", "istio-system", "-o", "name"]);
  assert.equal(left.stdout, "");
  // The IstioOperator's own gateway goes with -f.
  const removedIop = await runCli(["uninstall", "-f", iop]);
  assert.match(removedIop.stdout, /deployment\/istio-egressgateway deleted \(istio-egress\)/);
  assert.equal((await runCli(["uninstall"])).code, 2);
});
