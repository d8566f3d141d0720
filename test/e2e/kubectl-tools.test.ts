// The rest of what kubectl users type, against a live local cluster: get -o wide/yaml/json and pages,
// wait, describe and events, logs -f, rollout restart/status, get crd, explain, create deployment; bad
// Istio YAML refused with `shoal apply`'s field-level error and nothing stored; a watch killed mid-stream
// leaving the daemon healthy; and a namespace deleted through Terminating.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { KubectlCluster } from "../../src/testing/kubectl-e2e.js";
import { kubectlBlocker, startKubectlCluster } from "../../src/testing/kubectl-e2e.js";
import { runtimeE2eBlocker, waitFor } from "../../src/testing/runtime-root.js";

const blocker = runtimeE2eBlocker() ?? kubectlBlocker();
let k: KubectlCluster | undefined;

before(async () => {
  if (blocker !== undefined) return;
  k = await startKubectlCluster("ktool");
  await k.ok(
    "kubectl create ns tools && kubectl apply -f samples/tcp-echo/tcp-echo.yaml -n tools && kubectl apply -f samples/curl/curl.yaml -n tools",
  );
  await k.ok(
    "kubectl -n tools rollout status deploy/tcp-echo --timeout=60s && kubectl -n tools rollout status deploy/curl --timeout=60s",
    70_000,
  );
});
after(async () => {
  await k?.close();
});

const podOf = (app: string) =>
  `$(kubectl get pod -l app=${app} -n tools -o jsonpath={.items..metadata.name})`;

test("get -o wide/yaml/json, pages, wait, describe with events, get events", async (t) => {
  if (blocker !== undefined) return t.skip(blocker);
  const kc = k!;
  assert.match(
    await kc.ok("kubectl wait --for=condition=Ready pod -l app=tcp-echo -n tools --timeout=30s"),
    /pod\/tcp-echo-\S+ condition met/,
  );
  const ip = (
    await kc.ok(`kubectl get pod ${podOf("tcp-echo")} -n tools -o jsonpath={.status.podIP}`)
  ).trim();
  assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
  const wide = await kc.ok("kubectl get pods -n tools -o wide");
  assert.match(
    wide,
    /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/m,
  );
  assert.match(
    wide,
    new RegExp(`^tcp-echo-\\S+\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+${ip.replace(/\./g, "\\.")}\\s`, "m"),
  );
  const yaml = await kc.ok(`kubectl get pod ${podOf("tcp-echo")} -n tools -o yaml`);
  assert.match(yaml, /^kind: Pod$/m);
  assert.match(yaml, new RegExp(`^  podIP: ${ip.replace(/\./g, "\\.")}$`, "m"));
  const json = JSON.parse(await kc.ok("kubectl get pods -n tools -o json")) as { items: unknown[] };
  assert.equal(json.items.length, 2);
  // Pages: kubectl's --chunk-size reads the list one item at a time and still prints it all.
  assert.equal(
    (await kc.ok("kubectl get pods -n tools --chunk-size=1 -o name")).trim().split("\n").length,
    2,
  );
  const page = JSON.parse(await kc.ok("kubectl get --raw '/api/v1/namespaces/tools/pods?limit=1'")) as {
    items: unknown[];
    metadata: { continue?: string; remainingItemCount?: number };
  };
  assert.equal(page.items.length, 1);
  assert.ok(page.metadata.continue, "a cut list carries a continue token");
  assert.equal(page.metadata.remainingItemCount, 1);

  const described = await kc.ok(`kubectl describe pod ${podOf("tcp-echo")} -n tools`);
  assert.match(described, /^Status:\s+Running$/m);
  assert.match(described, /^Events:\n\s+Type\s+Reason\s+Age\s+From\s+Message$/m);
  assert.match(
    described,
    /Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned tools\/tcp-echo-/,
  );
  assert.match(described, /Normal\s+Started\s+\S+\s+kubelet\s+Started container tcp-echo/);
  const events = await kc.ok("kubectl get events -n tools");
  assert.match(events, /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$/m);
  assert.match(events, /Normal\s+Scheduled\s+pod\/curl-\S+\s+Successfully assigned tools\/curl-/);
});

test("logs -f follows a container; rollout restart replaces the pod and rollout status waits for it", async (t) => {
  if (blocker !== undefined) return t.skip(blocker);
  const kc = k!;
  const follow = kc.background("kubectl logs -f deploy/tcp-echo -n tools");
  try {
    await waitFor("the log so far", () => follow.out().includes("event=listening"), 10_000);
    await kc.ok(`kubectl exec ${podOf("curl")} -n tools -- sh -c 'echo "port 9001" | nc tcp-echo 9001'`);
    await waitFor("the new line while following", () => follow.out().includes('line="port 9001"'), 10_000);
  } finally {
    await follow.stop();
  }
  const before = (await kc.ok(`echo ${podOf("tcp-echo")}`)).trim();
  assert.match(
    await kc.ok("kubectl rollout restart deployment/tcp-echo -n tools"),
    /deployment.apps\/tcp-echo restarted/,
  );
  assert.match(
    await kc.ok("kubectl rollout status deployment/tcp-echo -n tools --timeout=60s", 70_000),
    /deployment "tcp-echo" successfully rolled out/,
  );
  const names = await waitFor(
    "the old pod gone",
    async () => {
      const now = (await kc.ok("kubectl get pods -l app=tcp-echo -n tools -o name")).trim();
      return now.includes(before) || now === "" ? undefined : now;
    },
    20_000,
  );
  assert.equal(names.split("\n").length, 1);
});

test("get crd, explain, create deployment", async (t) => {
  if (blocker !== undefined) return t.skip(blocker);
  const kc = k!;
  const crds = await kc.ok("kubectl get crd");
  for (const name of ["authorizationpolicies.security.istio.io", "virtualservices.networking.istio.io"])
    assert.match(crds, new RegExp(`^${name.replace(/\./g, "\\.")}\\s`, "m"));
  const explained = await kc.ok("kubectl explain authorizationpolicy.spec.rules");
  assert.match(explained, /^GROUP:\s+security\.istio\.io$/m);
  assert.match(explained, /^FIELD: rules <\[\]Object>$/m);
  for (const f of ["from", "to", "when"])
    assert.match(explained, new RegExp(`^  ${f}\\t<\\[\\]Object>$`, "m"));
  assert.match(await kc.ok("kubectl explain pods.spec.containers"), /^ {2}image\t<string>/m);

  assert.match(
    await kc.ok("kubectl create deployment web --image=curlimages/curl -n tools -- /bin/sleep infinity"),
    /deployment.apps\/web created/,
  );
  await kc.ok("kubectl rollout status deployment/web -n tools --timeout=60s", 70_000);
  assert.equal(
    await kc.ok("kubectl get deploy web -n tools -o jsonpath='{.spec.template.spec.containers[0].command}'"),
    '["/bin/sleep","infinity"]',
  );
});

test("invalid Istio YAML: shoal apply's field-level error, non-zero exit, nothing stored", async (t) => {
  if (blocker !== undefined) return t.skip(blocker);
  const kc = k!;
  const bad = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: bad
spec:
  action: DENYY
  rules:
  - to:
    - operation:
        ports: ["abc"]
`;
  const viaKubectl = await kc.bash(`kubectl apply -n tools -f - <<'EOF'\n${bad}EOF`);
  const viaShoal = await kc.bash(`shoal apply -n tools -f - <<'EOF'\n${bad}EOF`);
  assert.notEqual(viaKubectl.code, 0);
  assert.notEqual(viaShoal.code, 0);
  for (const field of ["spec.action", "spec.rules[0].to[0].operation.ports[0]"]) {
    // The same field and the same reason, each tool in its own frame.
    const reason = new RegExp(`${field.replace(/[.[\]]/g, "\\$&")}: (?:Invalid value: )?(.+)`);
    const fromKubectl = viaKubectl.stderr.match(reason)?.[1];
    assert.ok(fromKubectl, `kubectl names ${field}:\n${viaKubectl.stderr}`);
    assert.ok(
      viaShoal.stderr.includes(fromKubectl),
      `shoal apply says the same about ${field}:\n${viaShoal.stderr}`,
    );
  }
  const get = await kc.bash("kubectl get authorizationpolicy bad -n tools");
  assert.notEqual(get.code, 0);
  assert.match(get.stderr, /NotFound.*"bad" not found/);
});

test("a watch killed mid-stream leaves the daemon serving; a namespace goes through Terminating", async (t) => {
  if (blocker !== undefined) return t.skip(blocker);
  const kc = k!;
  const watch = kc.background("kubectl get configmaps -n tools -w");
  await kc.ok("kubectl create configmap one -n tools --from-literal=a=b");
  await waitFor("the watch printing", () => watch.out().includes("one"), 10_000);
  await watch.stop();
  // A raw watch cut off while events are being written to it.
  const raw = kc.background("kubectl get --raw '/api/v1/namespaces/tools/configmaps?watch=1'");
  for (let i = 0; i < 5; i++) await kc.ok(`kubectl create configmap w${i} -n tools`);
  await raw.stop();
  assert.equal(await kc.ok("kubectl get --raw /readyz"), "ok");
  await kc.ok("kubectl create configmap two -n tools");
  assert.match(await kc.ok("kubectl get configmaps -n tools -o name"), /configmap\/two/);

  const phases = kc.background(`kubectl get ns tools -w -o jsonpath='{.status.phase}{"\\n"}'`);
  try {
    await waitFor("the namespace watched", () => phases.out().includes("Active"), 10_000);
    assert.match(await kc.ok("kubectl delete ns tools", 60_000), /namespace "tools" deleted/);
    await waitFor("Terminating seen", () => phases.out().includes("Terminating"), 10_000);
  } finally {
    await phases.stop();
  }
  const gone = await kc.bash("kubectl get ns tools");
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /namespaces "tools" not found/);
});
