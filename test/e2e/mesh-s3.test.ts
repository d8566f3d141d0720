// Scenario S3 (deny all, then allow by identity, method and path) on the local cluster, as the Istio task
// runs it: namespace default labelled for injection with bookinfo's details and productpage (and httpbin,
// to see the headers an application receives), legacy with a curl of its own and no sidecar. Requests
// are made with curl from the productpage pod: step 0 returns the book record, deny-all answers 403
// `RBAC: access denied` (also on a keep-alive connection opened before it), details-viewer lets GET
// /details/* through and nothing else, and dot-segment paths stay denied, from productpage and, sent raw
// on the wire by a plaintext client, at the server sidecar itself. Also checked: a forged
// x-forwarded-client-cert never reaches the application, the server sidecar logs each request (details
// of allowed and denied ones), and its metrics tell mTLS clients from plaintext ones.
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { bookDetails } from "../../src/runtime/workloads/details.js";
import { podNetnsName } from "../../src/runtime/names.js";
import { SAMPLES, captureDuring, startMeshCluster } from "../../src/testing/mesh-e2e.js";
import type { MeshCluster } from "../../src/testing/mesh-e2e.js";
import { runtimeE2eBlocker, waitFor } from "../../src/testing/runtime-root.js";

const DENIED = "RBAC: access denied";
const PRODUCTPAGE_ID = "spiffe://cluster.local/ns/default/sa/bookinfo-productpage";
/** Not part of the scenario: lets any client GET /details/*, so a plaintext client's raw paths reach
 *  the path check (without it, the missing identity alone denies them). */
const DETAILS_PUBLIC = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: details-public
  namespace: default
spec:
  selector:
    matchLabels:
      app: details
  action: ALLOW
  rules:
    - to:
        - operation:
            methods: ["GET"]
            paths: ["/details/*"]
`;

interface Reply {
  code: string;
  body: string;
  /** The x-request-id the request was sent with, to find its access log line. */
  id: string;
}

/**
 * `curl` from APP's pod in NS: status and body of one request, tagged with its own x-request-id (the
 * sidecars keep a client's request id, so the server sidecar's access log line can be found by it).
 */
function requester(c: MeshCluster) {
  let n = 0;
  return async (app: string, ns: string, curlArgs: string, tag: string): Promise<Reply> => {
    const id = `s3-${tag}-${++n}`;
    const r = await c.sh(app, ns, `curl -s -H 'x-request-id: ${id}' -w '\\n%{http_code}' ${curlArgs}`);
    const cut = r.stdout.lastIndexOf("\n");
    return { code: r.stdout.slice(cut + 1), body: r.stdout.slice(0, Math.max(cut, 0)), id };
  };
}

test("S3: deny all, then allow by identity, method and path; headers, access log, metrics", async (t) => {
  const blocker = runtimeE2eBlocker();
  if (blocker !== undefined) return t.skip(blocker);
  const c = await startMeshCluster("s3");
  t.after(() => c.close());
  const timings: string[] = [];
  const ms = (since: number) => `${Math.round(performance.now() - since)} ms`;
  const t0 = performance.now();
  await c.ok(["label", "namespace", "default", "istio-injection=enabled"]);
  await c.ok(["create", "namespace", "legacy"]);
  const samples = (...names: string[]) => names.flatMap((n) => ["-f", join(SAMPLES, n)]);
  await c.ok(["apply", ...samples("bookinfo", "httpbin"), "-n", "default"]);
  await c.ok(["apply", ...samples("curl"), "-n", "legacy"]);
  await Promise.all([c.waitPods("default", 3), c.waitPods("legacy", 1)]);
  timings.push(`apply→pods ready: ${ms(t0)}`);
  const containers = async (app: string, ns: string) =>
    (
      await c.ok([
        "get",
        "pods",
        "-l",
        `app=${app}`,
        "-n",
        ns,
        "-o",
        "jsonpath={.items[0].spec.containers[*].name}",
      ])
    ).trim();
  const [details, detailsIP, detailsC, productpageC, legacyC] = await Promise.all([
    c.pod("details", "default").then((p) => p.replace("pod/", "")),
    c.podIP("details", "default"),
    containers("details", "default"),
    containers("productpage", "default"),
    containers("curl", "legacy"),
  ]);
  assert.equal(detailsC, "details istio-proxy");
  assert.equal(productpageC, "productpage istio-proxy");
  assert.equal(legacyC, "curl", "legacy has no sidecar");

  const req = requester(c);
  const fromPP = (curlArgs: string, tag: string) => req("productpage", "default", curlArgs, tag);
  const getDetails = (tag: string) => fromPP("http://details:9080/details/0", tag);
  /** Requests whose access log line is printed and checked at the end: what, reply. */
  const logged: Array<[string, Reply]> = [];
  /**
   * Applies a policy and polls PROBE until it answers CODE (a policy applies without restarts, to the
   * next request); records apply→ACK by the details sidecar and apply→effect. Resolves to the last reply.
   */
  const applyUntil = async (
    what: string,
    apply: { file: string } | { stdin: string },
    probe: () => Promise<Reply>,
    code: string,
  ): Promise<Reply> => {
    const before = (await c.proxyStatus()).find((r) => r.podName === details)?.versionAcked;
    const start = performance.now();
    if ("file" in apply) await c.ok(["apply", "-f", join(SAMPLES, "policies", apply.file)]);
    else await c.ok(["apply", "-f", "-"], { stdin: apply.stdin });
    const cli = performance.now();
    let effect = 0;
    const [acked, reply] = await Promise.all([
      c
        .waitNewVersion(details, "default", before)
        .then(() => ms(start))
        .catch(() => "none"),
      waitFor(
        `${what} in effect`,
        async () => {
          const r = await probe();
          effect = performance.now();
          return r.code === code ? r : undefined;
        },
        8000,
      ).catch(() => probe()),
    ]);
    timings.push(
      `${what}: apply→ACK ${acked}, apply→${code} ${Math.round(effect - start)} ms (the CLI took ${Math.round(cli - start)} ms)`,
    );
    return reply;
  };

  // Before any policy (independent requests, made together): step 0 from productpage, a forged XFCC
  // from productpage and from a client without a sidecar, and that client's own request to details.
  const [step0, headers, legacyHeaders, legacy] = await Promise.all([
    getDetails("step0"),
    fromPP(
      "-H 'x-forwarded-client-cert: By=forged;URI=spiffe://cluster.local/ns/default/sa/forged' http://httpbin:8000/headers",
      "xfcc",
    ),
    req(
      "curl",
      "legacy",
      "-H 'x-forwarded-client-cert: By=forged' http://httpbin.default:8000/headers",
      "xfcc-legacy",
    ),
    req("curl", "legacy", "http://details.default:9080/details/0", "legacy"),
  ]);

  // Step 0, no policy: the book record.
  assert.equal(step0.code, "200", `step 0: ${step0.body}`);
  assert.deepEqual(JSON.parse(step0.body), bookDetails(0));
  logged.push(["step 0 GET /details/0", step0]);

  // A client cannot forge x-forwarded-client-cert: the server sidecar sets it from the verified peer.
  assert.equal(headers.code, "200", headers.body);
  assert.doesNotMatch(headers.body, /forged/, "the client's XFCC never reaches the application");
  const seen = JSON.parse(headers.body) as { headers: Record<string, string[]> };
  const xfcc = Object.entries(seen.headers)
    .filter(([name]) => name.toLowerCase() === "x-forwarded-client-cert")
    .flatMap(([, v]) => v);
  assert.equal(xfcc.length, 1, `one XFCC: ${headers.body}`);
  assert.match(xfcc[0]!, /^By=spiffe:\/\/cluster\.local\/ns\/default\/sa\/httpbin;Hash=[0-9a-f]{64};/);
  assert.equal(xfcc[0]!.split(";URI=")[1], PRODUCTPAGE_ID, `XFCC names productpage: ${xfcc[0]}`);

  // From a plaintext client (no sidecar) the forged header is dropped and none is set.
  assert.equal(legacyHeaders.code, "200", legacyHeaders.body);
  assert.doesNotMatch(legacyHeaders.body, /forged|x-forwarded-client-cert/i, legacyHeaders.body);

  // A client without a sidecar (plaintext) is served in PERMISSIVE before any policy.
  assert.equal(legacy.code, "200", `legacy client: ${legacy.body}`);
  logged.push(["legacy GET /details/0 (no sidecar)", legacy]);

  // The details sidecar's metrics tell the mTLS client from the plaintext one (from a pod, on :15090).
  const prom = await c.sh("productpage", "default", `curl -s http://${detailsIP}:15090/stats/prometheus`);
  const requests = prom.stdout.split("\n").filter((l) => l.startsWith("istio_requests_total{"));
  const series = (source: string, security: string) =>
    requests.find(
      (l) =>
        l.includes('reporter="destination"') &&
        l.includes(`source_principal="${source}"`) &&
        l.includes('destination_app="details"') &&
        l.includes('response_code="200"') &&
        l.includes(`connection_security_policy="${security}"`),
    );
  const meshed = series(PRODUCTPAGE_ID, "mutual_tls");
  assert.ok(meshed, `productpage's requests counted as mutual_tls:\n${requests.join("\n")}`);
  assert.match(meshed, /source_workload="productpage-v1"/);
  const plain = series("unknown", "none");
  assert.ok(plain, `the legacy client's request counted as none:\n${requests.join("\n")}`);
  t.diagnostic(`details metrics:\n${[meshed, plain].join("\n")}`);

  // Step 1, deny-all: the next request on the mesh gets 403 with the body, no restart. Also on a
  // connection opened before: productpage keeps one open (nc), sends a request, and sends the second
  // only once deny-all is in force (the gate file; the shell gives up after 10 s whatever happens).
  const gate = join(c.stateDir, "s3-keepalive-gate");
  const http11 = (id: string, last: boolean) =>
    `GET /details/0 HTTP/1.1\\r\\nHost: details:9080\\r\\nx-request-id: ${id}\\r\\n${last ? "Connection: close\\r\\n" : ""}\\r\\n`;
  const keepAlive = c.sh(
    "productpage",
    "default",
    `(printf '${http11("s3-keepalive-1", false)}'; i=0; while [ ! -e ${gate} ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; printf '${http11("s3-keepalive-2", true)}') | nc details 9080`,
  );
  let step1: Reply;
  try {
    await waitFor(
      "the first request on the open connection",
      async () =>
        (await c.ok(["logs", details, "-n", "default", "-c", "istio-proxy"])).includes('"s3-keepalive-1"'),
      8000,
    );
    step1 = await applyUntil(
      "deny-all",
      { file: "s3-step1-deny-all.yaml" },
      () => getDetails("step1"),
      "403",
    );
  } finally {
    await writeFile(gate, "");
  }
  assert.equal(step1.code, "403", `step 1: ${step1.body}`);
  assert.equal(step1.body, DENIED);
  logged.push(["step 1 GET /details/0 (deny-all)", step1]);
  const kept = (await keepAlive).stdout;
  // details answers compact JSON with no newline after it, so the next status line follows the body.
  const statuses = [...kept.matchAll(/(?:^|\})HTTP\/1\.1 (\d+) /gm)].map((m) => m[1]);
  assert.deepEqual(statuses, ["200", "403"], `one connection, before and after deny-all:\n${kept}`);
  assert.ok(kept.endsWith(`\r\n\r\n${DENIED}`), kept);
  logged.push(
    ["keep-alive GET /details/0 before deny-all", { code: "200", body: "", id: "s3-keepalive-1" }],
    ["keep-alive GET /details/0 after deny-all", { code: "403", body: DENIED, id: "s3-keepalive-2" }],
  );

  // Step 2, details-viewer: productpage may GET /details/*, nothing else.
  const step2 = await applyUntil(
    "details-viewer",
    { file: "s3-step2-details-viewer.yaml" },
    () => getDetails("step2-get"),
    "200",
  );
  assert.equal(step2.code, "200", `step 2 GET /details/0: ${step2.body}`);
  assert.deepEqual(JSON.parse(step2.body), bookDetails(0));
  logged.push(["step 2 GET /details/0", step2]);
  const denied: Array<[string, string, string]> = [
    ["step 2 POST /details/0", "-X POST -d '{}' http://details:9080/details/0", "step2-post"],
    ["step 2 GET /ping", "http://details:9080/ping", "step2-ping"],
    // curl sends these as typed (--path-as-is); normalized to /admin before routing and the policy check.
    ["step 2 GET /details/../admin", "--path-as-is http://details:9080/details/../admin", "dotdot"],
    ["step 2 GET /details/%2e%2e/admin", "--path-as-is http://details:9080/details/%2e%2e/admin", "pct2e"],
    [
      "step 2 GET /details/0/../../admin",
      "--path-as-is http://details:9080/details/0/../../admin",
      "dotdot2",
    ],
  ];
  const [again, legacyDenied, ...replies] = await Promise.all([
    getDetails("step2-again"),
    req("curl", "legacy", "http://details.default:9080/details/0", "legacy2"),
    ...denied.map(([, args, tag]) => fromPP(args, tag)),
  ]);
  denied.forEach(([what], i) => {
    const r = replies[i]!;
    assert.equal(r.code, "403", `${what}: ${r.body}`);
    assert.equal(r.body, DENIED, what);
    logged.push([what, r]);
  });
  // ... while the allowed path still is, and other identities are not.
  assert.equal(again.code, "200", again.body);
  assert.equal(legacyDenied.code, "403", `legacy client under details-viewer: ${legacyDenied.body}`);
  assert.equal(legacyDenied.body, DENIED);
  logged.push(["step 2 legacy GET /details/0 (no identity)", legacyDenied]);

  // The server sidecar's own normalization, with the raw paths on the wire: a plaintext client's request
  // reaches it as typed (the client sidecar, which normalizes too, is out of the way), seen by tcpdump
  // in the details pod, and is judged on the normalized path.
  const open = await applyUntil(
    "details-public",
    { stdin: DETAILS_PUBLIC },
    () => req("curl", "legacy", "http://details.default:9080/details/0", "public"),
    "200",
  );
  assert.equal(open.code, "200", `plaintext GET /details/0 under details-public: ${open.body}`);
  logged.push(["details-public legacy GET /details/0", open]);
  const raw: Array<[string, string]> = [
    ["/details/../admin", "rawdotdot"],
    ["/details/%2e%2e/admin", "rawpct2e"],
    ["/details/%2E%2E/admin", "rawpct2E"],
  ];
  const wire = await captureDuring(
    podNetnsName(c.clusterId, "default", details),
    "tcp port 9080",
    async () => {
      const replies = await Promise.all(
        raw.map(([path, tag]) =>
          req("curl", "legacy", `--path-as-is http://details.default:9080${path}`, tag),
        ),
      );
      raw.forEach(([path], i) => {
        const r = replies[i]!;
        assert.equal(r.code, "403", `plaintext GET ${path}: ${r.body}`);
        assert.equal(r.body, DENIED);
        logged.push([`details-public legacy GET ${path}`, r]);
      });
    },
  );
  for (const [path] of raw)
    assert.ok(wire.includes(`GET ${path} HTTP/1.1`), `${path} crossed the wire as typed`);

  // The details sidecar logged each request: denied ones with the RBAC details, allowed ones via_upstream.
  const [log, prom403] = await Promise.all([
    c.ok(["logs", details, "-n", "default", "-c", "istio-proxy"]),
    c.sh("productpage", "default", `curl -s http://${detailsIP}:15090/stats/prometheus`),
  ]);
  const logs = log.split("\n");
  const lines: string[] = [];
  for (const [what, r] of logged) {
    const line = logs.find((l) => l.includes(`"${r.id}"`));
    assert.ok(line, `${what}: an access log line with request id ${r.id}`);
    lines.push(`${what} → ${r.code}\n  ${line}`);
    assert.match(line, new RegExp(`^\\[[^\\]]+\\] "[A-Z]+ \\S+ HTTP/1\\.1" ${r.code} `), what);
    if (r.code === "403") assert.match(line, / 403 - rbac_access_denied_matched_policy\[none\] /, what);
    else assert.match(line, / 200 - via_upstream - "-" \d+ \d+ \d+ \d+ .* inbound\|9080\|\| /, what);
  }
  const byId = (id: string) => logs.find((l) => l.includes(`"${id}"`)) ?? "";
  // The server sidecar judged the second keep-alive request by the new policy on the same connection
  // from the client sidecar (%DOWNSTREAM_REMOTE_ADDRESS%, third field from the end).
  const downstream = (id: string) => byId(id).split(" ").at(-3);
  assert.equal(
    downstream("s3-keepalive-2"),
    downstream("s3-keepalive-1"),
    "one connection at the server sidecar",
  );
  // The path the policy judged is the normalized one, and that is what the log shows.
  for (const [, r] of logged.filter(([what]) => what.includes("admin")))
    assert.match(byId(r.id), /"GET \/admin HTTP\/1\.1"/);
  // Denials are counted too, under the same security policy labels.
  const after = prom403.stdout
    .split("\n")
    .filter((l) => l.startsWith("istio_requests_total{") && l.includes('response_code="403"'));
  const count = (source: string, security: string) =>
    after
      .filter(
        (l) =>
          l.includes(`source_principal="${source}"`) &&
          l.includes(`connection_security_policy="${security}"`),
      )
      .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
  const denials = logged.filter(([, r]) => r.code === "403");
  assert.ok(count(PRODUCTPAGE_ID, "mutual_tls") >= denials.filter(([w]) => !w.includes("legacy")).length);
  assert.ok(count("unknown", "none") >= denials.filter(([w]) => w.includes("legacy")).length);
  t.diagnostic(`details sidecar access log:\n${lines.join("\n")}`);
  t.diagnostic(timings.join("; "));
});
