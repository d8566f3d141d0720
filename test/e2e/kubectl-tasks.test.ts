// Scenario S7: S1 and S2 typed with the machine's real kubectl against a live local cluster, every line as
// the tutorials write it (through bash, with `<(shoal kube-inject -f …)` and `$(kubectl get … -o
// jsonpath=…)`), and writes through kubectl that return only once the proxies enforce them: a DENY policy
// applied and deleted ten times, probed once right after each command returns.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { KubectlCluster } from "../../src/testing/kubectl-e2e.js";
import { kubectlBlocker, s1Probe, startKubectlCluster } from "../../src/testing/kubectl-e2e.js";
import { SAMPLES } from "../../src/testing/mesh-e2e.js";
import { runtimeE2eBlocker } from "../../src/testing/runtime-root.js";

const blocker = runtimeE2eBlocker() ?? kubectlBlocker();
let k: KubectlCluster | undefined;

before(async () => {
  if (blocker === undefined) k = await startKubectlCluster("kctl");
});
after(async () => {
  await k?.close();
});

const OK = "connection succeeded\n";
const NO = "connection rejected\n";

/** S1's three probes (9000 and 9001 through the Service, 9002 at the pod IP), as the task types them. */
async function s1Row(kc: KubectlCluster): Promise<string[]> {
  const ip = `TCP_ECHO_IP=$(kubectl get pod "$(kubectl get pod -l app=tcp-echo -n foo -o jsonpath={.items..metadata.name})" -n foo -o jsonpath="{.status.podIP}")`;
  const out = await kc.ok(
    [ip, s1Probe(9000), s1Probe(9001), s1Probe(9002, "$TCP_ECHO_IP")].join("\n"),
    60_000,
  );
  return out
    .split("\n")
    .filter((l) => l.startsWith("connection "))
    .map((l) => `${l}\n`);
}

/** `kubectl apply -f - <<EOF` with a policy file's YAML, as the tutorials paste it. */
async function applyHeredoc(kc: KubectlCluster, file: string, flags = ""): Promise<string> {
  const yaml = await readFile(join(SAMPLES, "policies", file), "utf8");
  return kc.ok(`kubectl apply ${flags}-f - <<EOF\n${yaml}EOF`);
}

test("S1 with kubectl: create ns, apply <(shoal kube-inject), exec | nc, policies applied and deleted", async (t) => {
  if (blocker !== undefined) return t.skip(blocker);
  const kc = k!;
  await kc.ok("kubectl create ns foo");
  await kc.ok("kubectl apply -f <(shoal kube-inject -f samples/tcp-echo/tcp-echo.yaml) -n foo");
  await kc.ok("kubectl apply -f <(shoal kube-inject -f samples/curl/curl.yaml) -n foo");
  await kc.ok(
    "kubectl -n foo rollout status deploy/tcp-echo --timeout=60s && kubectl -n foo rollout status deploy/curl --timeout=60s",
    70_000,
  );
  await kc.ok("kubectl wait --for=condition=Ready pod --all -n foo --timeout=60s", 70_000);
  const pods = await kc.ok("kubectl -n foo get pods");
  assert.match(pods, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/m);
  assert.match(pods, /^tcp-echo-\S+\s+2\/2\s+Running\s+0\s+/m);
  assert.match(pods, /^curl-\S+\s+2\/2\s+Running\s+0\s+/m);
  assert.equal(
    await kc.ok(
      `kubectl get pod "$(kubectl get pod -l app=tcp-echo -n foo -o jsonpath={.items..metadata.name})" -n foo -o jsonpath="{.spec['containers','initContainers'][*].name}"`,
    ),
    "tcp-echo istio-proxy istio-init",
  );

  assert.deepEqual(await s1Row(kc), [OK, OK, OK], "no policy: every port answers");
  await applyHeredoc(kc, "s1-step1-allow-ports.yaml");
  assert.deepEqual(await s1Row(kc), [OK, OK, NO], "ALLOW 9000 and 9001 only");
  await applyHeredoc(kc, "s1-step4-deny-get-9000.yaml");
  assert.deepEqual(await s1Row(kc), [NO, OK, OK], "DENY with an HTTP-only field denies the whole port");
  assert.match(
    await kc.ok("kubectl delete -n foo authorizationpolicy tcp-policy"),
    /authorizationpolicy\.security\.istio\.io "tcp-policy" deleted/,
  );
  assert.deepEqual(await s1Row(kc), [OK, OK, OK], "policy deleted: every port answers again");
});

test("apply → enforced: a DENY policy applied and deleted 10 times with kubectl, probed right after", async (t) => {
  if (blocker !== undefined) return t.skip(blocker);
  const kc = k!;
  const policy = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: deny-9000
  namespace: foo
spec:
  selector:
    matchLabels:
      app: tcp-echo
  action: DENY
  rules:
  - to:
    - operation:
        ports: ["9000"]
`;
  const file = join(kc.c.stateDir, "deny-9000.yaml");
  await kc.ok(`cat > ${file} <<'EOF'\n${policy}EOF`);
  const pod = (await kc.ok("kubectl get pod -l app=curl -n foo -o jsonpath={.items..metadata.name}")).trim();
  const probe = `kubectl exec ${pod} -c curl -n foo -- sh -c 'echo "port 9000" | nc tcp-echo 9000' | grep -q "hello" && echo 'connection succeeded' || echo 'connection rejected'`;
  const seen: string[] = [];
  for (let i = 0; i < 10; i++) {
    // One command: kubectl returns, then the probe runs at once; no retry, no wait in between.
    const denied = await kc.ok(`kubectl apply -f ${file} >/dev/null && ${probe}`);
    const allowed = await kc.ok(`kubectl delete -f ${file} >/dev/null && ${probe}`);
    seen.push(`${i}: ${denied.trim()} / ${allowed.trim()}`);
  }
  assert.deepEqual(
    seen,
    Array.from({ length: 10 }, (_, i) => `${i}: connection rejected / connection succeeded`),
  );
});

test("S2 with kubectl: httpbin everywhere, the tutorial's loop, STRICT in foo and mesh-wide, namespaces labelled", async (t) => {
  if (blocker !== undefined) return t.skip(blocker);
  const kc = k!;
  await kc.ok(
    [
      "kubectl apply -f <(shoal kube-inject -f samples/httpbin/httpbin.yaml) -n foo",
      "kubectl create ns bar",
      "kubectl apply -f <(shoal kube-inject -f samples/httpbin/httpbin.yaml) -n bar",
      "kubectl apply -f <(shoal kube-inject -f samples/curl/curl.yaml) -n bar",
      "kubectl create ns legacy",
      "kubectl apply -f samples/curl/curl.yaml -n legacy",
    ].join(" && "),
  );
  await kc.ok(
    "for ns in foo bar; do kubectl -n $ns rollout status deploy/httpbin --timeout=60s || exit 1; done; kubectl -n bar rollout status deploy/curl --timeout=60s && kubectl -n legacy rollout status deploy/curl --timeout=60s",
    90_000,
  );
  await kc.ok("kubectl wait --for=condition=Ready pod --all -A --timeout=60s", 70_000);
  const loop = `for from in "foo" "bar" "legacy"; do for to in "foo" "bar"; do kubectl exec "$(kubectl get pod -l app=curl -n \${from} -o jsonpath={.items..metadata.name})" -c curl -n \${from} -- curl http://httpbin.\${to}:8000/ip -s -o /dev/null -w "curl.\${from} to httpbin.\${to}: %{http_code}\\n"; done; done`;
  const table = async () => (await kc.bash(loop, 60_000)).stdout;
  const expect = (legacy: string, legacyBar = "200") =>
    `curl.foo to httpbin.foo: 200\ncurl.foo to httpbin.bar: 200\ncurl.bar to httpbin.foo: 200\ncurl.bar to httpbin.bar: 200\ncurl.legacy to httpbin.foo: ${legacy}\ncurl.legacy to httpbin.bar: ${legacyBar}\n`;
  assert.equal(await table(), expect("200"), "PERMISSIVE: everyone reaches both");

  // The `-nfoo` short forms, as the tutorial types them.
  assert.equal(
    await kc.ok(
      `kubectl -nfoo exec "$(kubectl get pod -nfoo -lapp=curl -ojsonpath={.items..metadata.name})" -c curl -- curl -s -o /dev/null -w "%{http_code}" http://httpbin.foo:8000/ip`,
    ),
    "200",
  );

  await applyHeredoc(kc, "s2-step1-foo-strict.yaml", "-n foo ");
  assert.equal(await table(), expect("000"), "STRICT in foo: legacy's plaintext is refused there only");
  await applyHeredoc(kc, "s2-step2-mesh-strict.yaml", "-n istio-system ");
  assert.equal(await table(), expect("000", "000"), "STRICT mesh-wide: legacy reaches neither");
  await kc.ok(
    "kubectl delete peerauthentication -n foo default && kubectl delete peerauthentication -n istio-system default",
  );
  assert.equal(await table(), expect("200"), "policies deleted: back to PERMISSIVE");

  await kc.ok("kubectl label namespace legacy istio-injection=disabled");
  assert.match(await kc.ok("kubectl get ns legacy --show-labels"), /istio-injection=disabled/);
});
