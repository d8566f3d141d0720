// Istio's traffic-management tasks (scenario S5) on one local cluster, each with the YAML the task has
// the user apply, and checked the way the task checks it: Request Routing, Fault Injection, Traffic
// Shifting and Request Timeouts on bookinfo in `default`; TCP Traffic Shifting on tcp-echo v1/v2;
// Circuit Breaking with httpbin and the fortio load client; Mirroring with httpbin v1/v2. Every namespace
// is set up at once at the start (pods start in parallel), then the tasks run one after another, each
// deleting what it applied, whatever happened. Requests are made with curl from a pod in the mesh (the
// tasks use a browser through the ingress gateway, or a curl/sleep pod). At least once per task, the
// client sidecar's access log line of a routed request must name the cluster the route chose
// (`outbound|PORT|SUBSET|HOST`) and the route.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import type { TestContext } from "node:test";
import type { AccessLogEntry, MeshCluster, Reply } from "../../src/testing/mesh-e2e.js";
import {
  SAMPLES,
  applyText,
  curlMany,
  deleteText,
  podName,
  sidecarLog,
  startMeshCluster,
  tally,
  waitForLog,
} from "../../src/testing/mesh-e2e.js";
import { runtimeE2eBlocker, waitFor } from "../../src/testing/runtime-root.js";

const BOOKINFO_NS = "default";
const TCP_NS = "istio-io-tcp-traffic-shifting";
const CB_NS = "circuit-breaking";
const MIRROR_NS = "mirroring";

const SORRY_REVIEWS = "Sorry, product reviews are currently unavailable for this book.";
const RATINGS_UNAVAILABLE = "Ratings service is currently unavailable";

/** Which reviews version a productpage served, from what the page shows (as a user reads it). */
type Shown = "v1" | "v2" | "v3" | "reviews-unavailable" | "ratings-unavailable" | "other";

function reviewsShown(html: string): Shown {
  if (html.includes(SORRY_REVIEWS)) return "reviews-unavailable";
  if (html.includes(RATINGS_UNAVAILABLE)) return "ratings-unavailable";
  const stars = html.includes("glyphicon-star");
  // reviews v2 draws black stars, v3 red ones, v1 none (it never calls ratings).
  if (stars && html.includes('color="red"')) return "v3";
  if (stars && html.includes('color="black"')) return "v2";
  if (!stars && html.includes("Reviewer1")) return "v1";
  return "other";
}

const fqdn = (host: string, ns: string) => `${host}.${ns}.svc.cluster.local`;

/**
 * A routed request's line on the client sidecar names the cluster the route chose and the route: for a
 * VirtualService route, one whose name names the VirtualService (`default` is a Service's own route).
 */
function assertRouted(e: AccessLogEntry | undefined, cluster: string, virtualService: string, what: string) {
  assert.ok(e, `${what}: an access log line on the client sidecar`);
  assert.equal(e.cluster, cluster, `${what}: ${e.line}`);
  assert.notEqual(e.routeName, "-", `${what}: the route is named: ${e.line}`);
  assert.notEqual(e.routeName, "default", `${what}: the VirtualService's route, not the default: ${e.line}`);
  assert.ok(e.routeName.includes(virtualService), `${what}: route of ${virtualService}: ${e.line}`);
}

const outboundTo = (entries: AccessLogEntry[], id: string, host: string) =>
  entries.find(
    (e) => e.requestId === id && e.cluster.startsWith("outbound|") && e.cluster.endsWith(`|${host}`),
  );

// ---------------------------------------------------------------------------------------------------
// Bookinfo: samples/bookinfo/networking/destination-rule-all.yaml and virtual-service-all-v1.yaml.

const DESTINATION_RULE_ALL = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: productpage
spec:
  host: productpage
  subsets:
  - name: v1
    labels:
      version: v1
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
  - name: v3
    labels:
      version: v3
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: ratings
spec:
  host: ratings
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
  - name: v2-mysql
    labels:
      version: v2-mysql
  - name: v2-mysql-vm
    labels:
      version: v2-mysql-vm
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: details
spec:
  host: details
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
---
`;

const VIRTUAL_SERVICE_ALL_V1 = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: productpage
spec:
  hosts:
  - productpage
  http:
  - route:
    - destination:
        host: productpage
        subset: v1
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v1
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
spec:
  hosts:
  - ratings
  http:
  - route:
    - destination:
        host: ratings
        subset: v1
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: details
spec:
  hosts:
  - details
  http:
  - route:
    - destination:
        host: details
        subset: v1
---
`;

/** What the bookinfo tasks ask of the cluster: the pages (anonymous or signed in) and the logs. */
function bookinfo(c: MeshCluster) {
  const ns = BOOKINFO_NS;
  /** The signed-in user's cookie jar (productpage's /login sets the session, as the browser does). */
  const jar = join(c.stateDir, "bookinfo-jason.cookies");
  let loggedIn = false;
  const pages = async (n: number, tag: string, user?: "jason"): Promise<Reply[]> => {
    if (user !== undefined && !loggedIn) {
      const r = await c.sh(
        "curl",
        ns,
        `curl -s -o /dev/null -w '%{http_code}' -c ${jar} -d 'username=${user}&passwd=' http://productpage:9080/login`,
      );
      assert.match(r.stdout, /^(200|302)$/, `login as ${user}: ${r.stdout}${r.stderr}`);
      loggedIn = true;
    }
    const cookie = user !== undefined ? `-b ${jar} ` : "";
    return curlMany(c, "curl", ns, n, `${cookie}http://productpage:9080/productpage`, tag);
  };
  const shown = (replies: Reply[]) => {
    for (const r of replies) assert.equal(r.code, "200", `${r.id}: productpage answers: ${r.body}`);
    return replies.map((r) => reviewsShown(r.body));
  };
  let productpagePod: string | undefined;
  const productpageLog = async () =>
    sidecarLog(c, (productpagePod ??= await podName(c, "app=productpage", ns)), ns);
  return { ns, pages, shown, productpageLog, reviews: fqdn("reviews", ns), ratings: fqdn("ratings", ns) };
}

async function setUpBookinfo(c: MeshCluster): Promise<void> {
  await c.ok(["label", "namespace", BOOKINFO_NS, "istio-injection=enabled"]);
  await c.ok(["apply", "-f", join(SAMPLES, "bookinfo-all/bookinfo.yaml"), "-n", BOOKINFO_NS]);
  await c.ok(["apply", "-f", join(SAMPLES, "curl/curl.yaml"), "-n", BOOKINFO_NS]);
  // details, ratings, reviews v1/v2/v3, productpage, and curl to make the requests.
  await c.waitPods(BOOKINFO_NS, 7, 90_000);
  await applyText(c, DESTINATION_RULE_ALL, BOOKINFO_NS);
}

// ---------------------------------------------------------------------------------------------------
// Request Routing: virtual-service-all-v1.yaml, then virtual-service-reviews-test-v2.yaml.

const VIRTUAL_SERVICE_REVIEWS_TEST_V2 = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
    - reviews
  http:
  - match:
    - headers:
        end-user:
          exact: jason
    route:
    - destination:
        host: reviews
        subset: v2
  - route:
    - destination:
        host: reviews
        subset: v1
`;

async function requestRouting(c: MeshCluster, t: TestContext): Promise<void> {
  const b = bookinfo(c);
  // Without a VirtualService, reviews is balanced over its three versions.
  const before = b.shown(await b.pages(9, "rr-none"));
  assert.ok(new Set(before).size >= 2, `no VirtualService: more than one reviews version: ${before}`);
  try {
    await applyText(c, VIRTUAL_SERVICE_ALL_V1, b.ns);
    const allV1 = await b.pages(12, "rr-all-v1");
    assert.deepEqual(tally(b.shown(allV1)), { v1: 12 }, "virtual-service-all-v1: never any stars");
    const log = await b.productpageLog();
    assertRouted(
      outboundTo(log, "rr-all-v1-1", b.reviews),
      `outbound|9080|v1|${b.reviews}`,
      "reviews",
      "all-v1",
    );
    assertRouted(
      outboundTo(log, "rr-all-v1-1", fqdn("details", b.ns)),
      `outbound|9080|v1|${fqdn("details", b.ns)}`,
      "details",
      "all-v1 details",
    );

    await applyText(c, VIRTUAL_SERVICE_REVIEWS_TEST_V2, b.ns);
    const jason = await b.pages(10, "rr-jason", "jason");
    assert.deepEqual(tally(b.shown(jason)), { v2: 10 }, "end-user jason: always black stars");
    const anonymous = await b.pages(10, "rr-anon");
    assert.deepEqual(tally(b.shown(anonymous)), { v1: 10 }, "anyone else: still no stars");
    const after = await b.productpageLog();
    assertRouted(
      outboundTo(after, "rr-jason-1", b.reviews),
      `outbound|9080|v2|${b.reviews}`,
      "reviews",
      "jason",
    );
    assertRouted(
      outboundTo(after, "rr-anon-1", b.reviews),
      `outbound|9080|v1|${b.reviews}`,
      "reviews",
      "anonymous",
    );
    t.diagnostic(`jason → ${outboundTo(after, "rr-jason-1", b.reviews)?.line}`);
  } finally {
    await deleteText(c, VIRTUAL_SERVICE_ALL_V1, b.ns);
  }
}

// ---------------------------------------------------------------------------------------------------
// Fault Injection: virtual-service-ratings-test-delay.yaml, then virtual-service-ratings-test-abort.yaml
// (after virtual-service-all-v1.yaml and virtual-service-reviews-test-v2.yaml).

const VIRTUAL_SERVICE_RATINGS_TEST_DELAY = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
spec:
  hosts:
  - ratings
  http:
  - match:
    - headers:
        end-user:
          exact: jason
    fault:
      delay:
        percentage:
          value: 100.0
        fixedDelay: 7s
    route:
    - destination:
        host: ratings
        subset: v1
  - route:
    - destination:
        host: ratings
        subset: v1
`;

const VIRTUAL_SERVICE_RATINGS_TEST_ABORT = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
spec:
  hosts:
  - ratings
  http:
  - match:
    - headers:
        end-user:
          exact: jason
    fault:
      abort:
        percentage:
          value: 100.0
        httpStatus: 500
    route:
    - destination:
        host: ratings
        subset: v1
  - route:
    - destination:
        host: ratings
        subset: v1
`;

async function faultInjection(c: MeshCluster, t: TestContext): Promise<void> {
  const b = bookinfo(c);
  const reviewsV2 = await podName(c, "app=reviews,version=v2", b.ns);
  try {
    await applyText(c, VIRTUAL_SERVICE_ALL_V1, b.ns);
    await applyText(c, VIRTUAL_SERVICE_REVIEWS_TEST_V2, b.ns);

    // Delay: reviews v2 waits 7 s for ratings, longer than productpage waits for reviews (3 s, twice).
    await applyText(c, VIRTUAL_SERVICE_RATINGS_TEST_DELAY, b.ns);
    const [delayed] = await b.pages(1, "fi-delay", "jason");
    assert.equal(b.shown([delayed!])[0], "reviews-unavailable", `jason under the delay: ${delayed!.body}`);
    assert.ok(delayed!.body.includes(SORRY_REVIEWS));
    assert.deepEqual(tally(b.shown(await b.pages(3, "fi-delay-anon"))), { v1: 3 }, "others: no delay");
    // The delay happened at reviews v2's sidecar, on the route for jason.
    const slow = await waitForLog(
      c,
      reviewsV2,
      b.ns,
      "the delayed call to ratings",
      (log) => {
        const e = outboundTo(log, "fi-delay-1", b.ratings);
        return e?.flags.includes("DI") ? e : undefined;
      },
      15_000,
    );
    assertRouted(slow, `outbound|9080|v1|${b.ratings}`, "ratings", "delayed ratings call");
    t.diagnostic(`delay → ${slow.line}`);

    // Abort: ratings answers jason's calls 500 at reviews v2's sidecar; reviews shows it cannot rate.
    await applyText(c, VIRTUAL_SERVICE_RATINGS_TEST_ABORT, b.ns);
    const [aborted] = await b.pages(1, "fi-abort", "jason");
    assert.equal(b.shown([aborted!])[0], "ratings-unavailable", `jason under the abort: ${aborted!.body}`);
    assert.deepEqual(tally(b.shown(await b.pages(3, "fi-abort-anon"))), { v1: 3 }, "others: no abort");
    const fault = await waitForLog(c, reviewsV2, b.ns, "the aborted call to ratings", (log) =>
      outboundTo(log, "fi-abort-1", b.ratings),
    );
    assert.equal(fault.code, "500", fault.line);
    assert.ok(fault.flags.includes("FI"), `fault injected abort flagged FI: ${fault.line}`);
    assertRouted(fault, `outbound|9080|v1|${b.ratings}`, "ratings", "aborted ratings call");
    t.diagnostic(`abort → ${fault.line}`);
  } finally {
    await deleteText(c, VIRTUAL_SERVICE_ALL_V1, b.ns);
  }
}

// ---------------------------------------------------------------------------------------------------
// Traffic Shifting: virtual-service-all-v1.yaml, virtual-service-reviews-50-v3.yaml, then
// virtual-service-reviews-v3.yaml.

const VIRTUAL_SERVICE_REVIEWS_50_V3 = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
    - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v1
      weight: 50
    - destination:
        host: reviews
        subset: v3
      weight: 50
`;

const VIRTUAL_SERVICE_REVIEWS_V3 = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
    - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v3
`;

async function trafficShifting(c: MeshCluster, t: TestContext): Promise<void> {
  const b = bookinfo(c);
  try {
    await applyText(c, VIRTUAL_SERVICE_ALL_V1, b.ns);
    assert.deepEqual(tally(b.shown(await b.pages(5, "ts-v1"))), { v1: 5 });

    // 50/50: over 100 requests each side gets 30-70 (4 standard deviations of a fair split).
    await applyText(c, VIRTUAL_SERVICE_REVIEWS_50_V3, b.ns);
    const split = await b.pages(100, "ts-50");
    const counts = tally(b.shown(split));
    t.diagnostic(`50/50 over 100 pages: ${JSON.stringify(counts)}`);
    assert.equal((counts["v1"] ?? 0) + (counts["v3"] ?? 0), 100, `only v1 and v3: ${JSON.stringify(counts)}`);
    for (const v of ["v1", "v3"])
      assert.ok(
        (counts[v] ?? 0) >= 30 && (counts[v] ?? 0) <= 70,
        `${v} within 30-70 %: ${JSON.stringify(counts)}`,
      );
    const log = await b.productpageLog();
    const v3 = split.find((r) => reviewsShown(r.body) === "v3")!;
    assertRouted(outboundTo(log, v3.id, b.reviews), `outbound|9080|v3|${b.reviews}`, "reviews", "50/50 → v3");

    await applyText(c, VIRTUAL_SERVICE_REVIEWS_V3, b.ns);
    assert.deepEqual(tally(b.shown(await b.pages(10, "ts-v3"))), { v3: 10 }, "100 %: red stars only");
  } finally {
    await deleteText(c, VIRTUAL_SERVICE_ALL_V1, b.ns);
  }
}

// ---------------------------------------------------------------------------------------------------
// Request Timeouts: virtual-service-all-v1.yaml, reviews to v2, ratings delayed 2 s, then a 0.5 s
// timeout on reviews.

const TIMEOUTS_REVIEWS_V2 = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
    - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v2
`;

const TIMEOUTS_RATINGS_DELAY = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: ratings
spec:
  hosts:
  - ratings
  http:
  - fault:
      delay:
        percentage:
          value: 100
        fixedDelay: 2s
    route:
    - destination:
        host: ratings
        subset: v1
`;

const TIMEOUTS_REVIEWS_V2_TIMEOUT = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts:
  - reviews
  http:
  - route:
    - destination:
        host: reviews
        subset: v2
    timeout: 0.5s
`;

async function requestTimeouts(c: MeshCluster, t: TestContext): Promise<void> {
  const b = bookinfo(c);
  /** `curl reviews:9080/reviews/0` from productpage: status, body and curl's own time_total. */
  const reviews0 = async (id: string) => {
    const r = await c.sh(
      "productpage",
      b.ns,
      `curl -s -H 'x-request-id: ${id}' -w '\\n%{http_code} %{time_total}' http://reviews:9080/reviews/0`,
    );
    const cut = r.stdout.lastIndexOf("\n");
    const [code, seconds] = r.stdout.slice(cut + 1).split(" ");
    return { code, seconds: Number(seconds), body: r.stdout.slice(0, Math.max(cut, 0)) };
  };
  try {
    await applyText(c, VIRTUAL_SERVICE_ALL_V1, b.ns);
    await applyText(c, TIMEOUTS_REVIEWS_V2, b.ns);
    await applyText(c, TIMEOUTS_RATINGS_DELAY, b.ns);
    // Slow (2 s) but whole: reviews v2 waits for ratings and shows black stars.
    const slow = await reviews0("rt-slow");
    assert.equal(slow.code, "200", slow.body);
    assert.match(slow.body, /"color": ?"black"/, `reviews v2 with its ratings: ${slow.body}`);

    await applyText(c, TIMEOUTS_REVIEWS_V2_TIMEOUT, b.ns);
    const cut = await reviews0("rt-timeout");
    t.diagnostic(`with the 2 s delay: ${slow.seconds} s; with the 0.5 s timeout: ${cut.seconds} s`);
    assert.equal(cut.code, "504", cut.body);
    assert.equal(cut.body, "upstream request timeout");
    assert.ok(cut.seconds < 2, `the timeout answered before the delay ended: ${cut.seconds} s`);
    const e = await waitForLog(
      c,
      await podName(c, "app=productpage", b.ns),
      b.ns,
      "the timed-out call",
      (log) => outboundTo(log, "rt-timeout", b.reviews),
    );
    assert.equal(e.code, "504", e.line);
    assert.ok(e.flags.includes("UT"), `upstream request timeout flagged UT: ${e.line}`);
    assertRouted(e, `outbound|9080|v2|${b.reviews}`, "reviews", "timed-out reviews call");

    // And the page, as the task shows it: productpage gives up on reviews quickly.
    const [page] = await b.pages(1, "rt-page");
    assert.equal(b.shown([page!])[0], "reviews-unavailable", page!.body);
  } finally {
    await deleteText(c, VIRTUAL_SERVICE_ALL_V1, b.ns);
  }
}

// ---------------------------------------------------------------------------------------------------
// TCP Traffic Shifting: samples/tcp-echo/tcp-echo-all-v1.yaml, then tcp-echo-20-v2.yaml. The task sends
// through the ingress gateway (Gateway `tcp-echo-gateway`, port 31400); the local cluster has no
// ingress gateway, so the same DestinationRule and routes are bound to the mesh (hosts `tcp-echo`,
// port 9000) and the connections come from a pod in the namespace.

const TCP_ECHO_DESTINATION = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: tcp-echo-destination
spec:
  host: tcp-echo
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
`;

const TCP_ECHO_ALL_V1 = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: tcp-echo
spec:
  hosts:
  - tcp-echo
  tcp:
  - match:
    - port: 9000
    route:
    - destination:
        host: tcp-echo
        port:
          number: 9000
        subset: v1
`;

const TCP_ECHO_20_V2 = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: tcp-echo
spec:
  hosts:
  - tcp-echo
  tcp:
  - match:
    - port: 9000
    route:
    - destination:
        host: tcp-echo
        port:
          number: 9000
        subset: v1
      weight: 80
    - destination:
        host: tcp-echo
        port:
          number: 9000
        subset: v2
      weight: 20
`;

async function setUpTcpEcho(c: MeshCluster): Promise<void> {
  await c.ok(["create", "namespace", TCP_NS]);
  await c.ok(["label", "namespace", TCP_NS, "istio-injection=enabled"]);
  await c.ok(["apply", "-f", join(SAMPLES, "curl/curl.yaml"), "-n", TCP_NS]);
  await c.ok(["apply", "-f", join(SAMPLES, "tcp-echo-v1-v2/tcp-echo-services.yaml"), "-n", TCP_NS]);
  await c.waitPods(TCP_NS, 3, 90_000);
}

async function tcpTrafficShifting(c: MeshCluster, t: TestContext): Promise<void> {
  /** N connections, one line each; resolves to which version answered each (`one …` / `two …`). */
  const connections = async (n: number, tag: string) => {
    const r = await c.sh(
      "curl",
      TCP_NS,
      // -N: nc half-closes after its line, so the echo server ends the connection once it has answered.
      `i=1; while [ $i -le ${n} ]; do echo "${tag} $i" | nc -N tcp-echo 9000; i=$((i+1)); done`,
    );
    const answers = r.stdout.split("\n").filter((l) => l !== "");
    assert.equal(answers.length, n, `one answer per connection: ${r.stdout}${r.stderr}`);
    return answers.map((line, i) => {
      assert.match(line, new RegExp(`^(one|two) ${tag} ${i + 1}$`), "tcp-echo v1 says one, v2 says two");
      return line.startsWith("one") ? "v1" : "v2";
    });
  };
  const curlPod = await podName(c, "app=curl", TCP_NS);
  const cluster = (subset: string) => `outbound|9000|${subset}|${fqdn("tcp-echo", TCP_NS)}`;
  const linesTo = (log: AccessLogEntry[], subset: string) =>
    log.filter((e) => e.request === "- - -" && e.cluster === cluster(subset)).length;
  try {
    await applyText(c, TCP_ECHO_DESTINATION, TCP_NS);
    await applyText(c, TCP_ECHO_ALL_V1, TCP_NS);
    assert.deepEqual(tally(await connections(10, "all-v1")), { v1: 10 }, "tcp-echo-all-v1");
    const v1Lines = await waitForLog(c, curlPod, TCP_NS, "10 connections to v1", (log) =>
      linesTo(log, "v1") >= 10 ? linesTo(log, "v1") : undefined,
    );

    // 80/20 over 100 connections: v2 gets 8-35 (the expected 20, -3 and +3.75 standard deviations).
    await applyText(c, TCP_ECHO_20_V2, TCP_NS);
    const counts = tally(await connections(100, "split"));
    t.diagnostic(`80/20 over 100 connections: ${JSON.stringify(counts)}`);
    const v2 = counts["v2"] ?? 0;
    assert.ok(v2 >= 8 && v2 <= 35, `v2 within 8-35 %: ${JSON.stringify(counts)}`);
    // Each connection is logged at the client sidecar with the cluster its route chose.
    await waitForLog(c, curlPod, TCP_NS, "every connection logged with its subset's cluster", (log) =>
      linesTo(log, "v2") === v2 && linesTo(log, "v1") === v1Lines + (counts["v1"] ?? 0) ? true : undefined,
    );
  } finally {
    await deleteText(c, TCP_ECHO_ALL_V1 + "---\n" + TCP_ECHO_DESTINATION, TCP_NS);
  }
}

// ---------------------------------------------------------------------------------------------------
// Circuit Breaking: the httpbin DestinationRule, fortio from samples/httpbin/sample-client.

const HTTPBIN_CIRCUIT_BREAKER = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: httpbin
spec:
  host: httpbin
  trafficPolicy:
    connectionPool:
      tcp:
        maxConnections: 1
      http:
        http1MaxPendingRequests: 1
        maxRequestsPerConnection: 1
    outlierDetection:
      consecutive5xxErrors: 1
      interval: 1s
      baseEjectionTime: 3m
      maxEjectionPercent: 100
`;

async function setUpCircuitBreaking(c: MeshCluster): Promise<void> {
  await c.ok(["create", "namespace", CB_NS]);
  for (const sample of ["httpbin/httpbin.yaml", "fortio/fortio-deploy.yaml"]) {
    const injected = await c.ok(["kube-inject", "-f", join(SAMPLES, sample)]);
    await c.ok(["apply", "-f", "-", "-n", CB_NS], { stdin: injected });
  }
  await c.waitPods(CB_NS, 2, 90_000);
}

async function circuitBreaking(c: MeshCluster, t: TestContext): Promise<void> {
  const fortio = await podName(c, "app=fortio", CB_NS);
  const fortioRun = async (...args: string[]) => {
    const r = await c.shoal(["exec", fortio, "-n", CB_NS, "-c", "fortio", "--", "/usr/bin/fortio", ...args], {
      timeoutMs: 60_000,
    });
    return `${r.stdout}${r.stderr}`;
  };
  try {
    await applyText(c, HTTPBIN_CIRCUIT_BREAKER, CB_NS);
    // One call goes through.
    assert.match(await fortioRun("curl", "-quiet", "http://httpbin:8000/get"), /HTTP\/1\.1 200/);

    // Three connections at full speed overflow a pool of one connection with one pending request.
    const out = await fortioRun(
      "load",
      "-c",
      "3",
      "-qps",
      "0",
      "-n",
      "30",
      "-loglevel",
      "Warning",
      "http://httpbin:8000/get",
    );
    const codes = Object.fromEntries(
      [...out.matchAll(/^Code (\d+) : (\d+) /gm)].map((m) => [m[1]!, Number(m[2])]),
    );
    t.diagnostic(`fortio -c 3 -n 30: ${JSON.stringify(codes)}`);
    assert.ok((codes["503"] ?? 0) > 0, `some calls trip the circuit breaker:\n${out}`);
    assert.ok((codes["200"] ?? 0) > 0, `some calls get through:\n${out}`);
    assert.equal((codes["200"] ?? 0) + (codes["503"] ?? 0), 30, `200s and 503s only:\n${out}`);

    // The client sidecar logged the overflow: 503 UO on httpbin's cluster, Service's default route.
    const overflow = await waitForLog(c, fortio, CB_NS, "a 503 UO line", (log) =>
      log.find((e) => e.code === "503" && e.flags.includes("UO")),
    );
    assert.equal(overflow.cluster, `outbound|8000||${fqdn("httpbin", CB_NS)}`, overflow.line);
    assert.equal(overflow.routeName, "default", overflow.line);
    t.diagnostic(`overflow → ${overflow.line}`);
  } finally {
    await deleteText(c, HTTPBIN_CIRCUIT_BREAKER, CB_NS);
  }
}

// ---------------------------------------------------------------------------------------------------
// Mirroring: httpbin v1 and v2 with access logging, the httpbin Service, a curl client; all traffic to
// v1, then also mirrored to v2.

const HTTPBIN_V1 = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: httpbin-v1
spec:
  replicas: 1
  selector:
    matchLabels:
      app: httpbin
      version: v1
  template:
    metadata:
      labels:
        app: httpbin
        version: v1
    spec:
      containers:
      - image: docker.io/kennethreitz/httpbin
        imagePullPolicy: IfNotPresent
        name: httpbin
        command: ["gunicorn", "--access-logfile", "-", "-b", "0.0.0.0:80", "httpbin:app"]
        ports:
        - containerPort: 80
`;

const HTTPBIN_V2 = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: httpbin-v2
spec:
  replicas: 1
  selector:
    matchLabels:
      app: httpbin
      version: v2
  template:
    metadata:
      labels:
        app: httpbin
        version: v2
    spec:
      containers:
      - image: docker.io/kennethreitz/httpbin
        imagePullPolicy: IfNotPresent
        name: httpbin
        command: ["gunicorn", "--access-logfile", "-", "-b", "0.0.0.0:80", "httpbin:app"]
        ports:
        - containerPort: 80
`;

const HTTPBIN_SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: httpbin
  labels:
    app: httpbin
spec:
  ports:
  - name: http
    port: 8000
    targetPort: 80
  selector:
    app: httpbin
`;

const MIRROR_DEFAULT_ROUTE = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: httpbin
spec:
  hosts:
  - httpbin
  http:
  - route:
    - destination:
        host: httpbin
        subset: v1
      weight: 100
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: httpbin
spec:
  host: httpbin
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
`;

const MIRROR_TO_V2 = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: httpbin
spec:
  hosts:
  - httpbin
  http:
  - route:
    - destination:
        host: httpbin
        subset: v1
      weight: 100
    mirror:
      host: httpbin
      subset: v2
    mirrorPercentage:
      value: 100.0
`;

async function setUpMirroring(c: MeshCluster): Promise<void> {
  await c.ok(["create", "namespace", MIRROR_NS]);
  // `cat <<EOF | istioctl kube-inject -f - | kubectl create -f -`, as the task deploys each version.
  for (const deployment of [HTTPBIN_V1, HTTPBIN_V2]) {
    const injected = await c.ok(["kube-inject", "-f", "-"], { stdin: deployment });
    await applyText(c, injected, MIRROR_NS);
  }
  await applyText(c, HTTPBIN_SERVICE, MIRROR_NS);
  const curl = await c.ok(["kube-inject", "-f", join(SAMPLES, "curl/curl.yaml")]);
  await applyText(c, curl, MIRROR_NS);
  await c.waitPods(MIRROR_NS, 3, 90_000);
}

async function mirroring(c: MeshCluster, t: TestContext): Promise<void> {
  const [v1, v2, curlPod] = await Promise.all([
    podName(c, "app=httpbin,version=v1", MIRROR_NS),
    podName(c, "app=httpbin,version=v2", MIRROR_NS),
    podName(c, "app=curl", MIRROR_NS),
  ]);
  const v1IP = await c.podIP("httpbin,version=v1", MIRROR_NS);
  /** `kubectl logs POD -c httpbin`: the application's own lines for GET /headers. */
  const appRequests = async (pod: string) =>
    (await c.ok(["logs", pod, "-n", MIRROR_NS, "-c", "httpbin"]))
      .split("\n")
      .filter((l) => l.includes("/headers"));
  /** Waits until POD's application logged N requests for /headers (a line lands as the answer leaves). */
  const appRequestsReach = async (pod: string, n: number) => {
    let lines: string[] = [];
    await waitFor(`${n} requests in ${pod}'s log`, async () => {
      lines = await appRequests(pod);
      if (lines.length < n) await new Promise((r) => setTimeout(r, 200));
      return lines.length >= n;
    }).catch(() => undefined);
    return lines;
  };
  const headers = (n: number, tag: string) =>
    curlMany(c, "curl", MIRROR_NS, n, "-S http://httpbin:8000/headers", tag);
  const host = fqdn("httpbin", MIRROR_NS);
  try {
    await applyText(c, MIRROR_DEFAULT_ROUTE, MIRROR_NS);
    const [first] = await headers(1, "mirror-off");
    assert.equal(first!.code, "200", first!.body);
    assert.match(first!.body, /"Host": ?\[?\s*"httpbin:8000"/, first!.body);
    assert.equal((await appRequestsReach(v1, 1)).length, 1, "v1 served the request");
    assert.deepEqual(await appRequests(v2), [], "v2 saw nothing");
    const routed = await waitForLog(c, curlPod, MIRROR_NS, "the request to v1", (log) =>
      outboundTo(log, "mirror-off-1", host),
    );
    assertRouted(routed, `outbound|8000|v1|${host}`, "httpbin", "default route to v1");
    assert.equal(routed.upstreamHost, `${v1IP}:80`, routed.line);

    await applyText(c, MIRROR_TO_V2, MIRROR_NS);
    const mirrored = await headers(3, "mirror-on");
    for (const r of mirrored) {
      assert.equal(r.code, "200", r.body);
      // The client's answer is v1's: it saw the request's own Host, not the shadow's.
      assert.match(r.body, /"Host": ?\[?\s*"httpbin:8000"/, r.body);
      assert.doesNotMatch(r.body, /-shadow/, r.body);
    }
    const onClient = await sidecarLog(c, curlPod, MIRROR_NS);
    const line = outboundTo(onClient, "mirror-on-1", host);
    assertRouted(line, `outbound|8000|v1|${host}`, "httpbin", "mirrored request, primary");
    assert.equal(line!.upstreamHost, `${v1IP}:80`, line!.line);
    assert.equal((await appRequestsReach(v1, 4)).length, 4, "v1 served every request");
    // v2 received the copies (fire and forget), their Host marked -shadow, in its sidecar's and its own log.
    const shadows = await waitForLog(c, v2, MIRROR_NS, "three mirrored requests at v2", (log) => {
      const found = log.filter((e) => e.requestId.startsWith("mirror-on-"));
      return found.length === 3 ? found : undefined;
    });
    for (const e of shadows) assert.match(e.authority, /^httpbin(:8000)?-shadow(:8000)?$/, e.line);
    const v2Lines = await appRequestsReach(v2, 3);
    assert.equal(v2Lines.length, 3, v2Lines.join("\n"));
    for (const l of v2Lines) assert.match(l, /httpbin[^\s"]*-shadow/, l);
    t.diagnostic(`mirror at v2 → ${shadows[0]!.line}`);
  } finally {
    await deleteText(c, MIRROR_DEFAULT_ROUTE, MIRROR_NS);
  }
}

// ---------------------------------------------------------------------------------------------------

/** Starts `fn` now; its failure is reported by whoever awaits the result (one task, not all). */
function started(fn: () => Promise<void>): Promise<void> {
  const p = fn();
  p.catch(() => undefined);
  return p;
}

test("S5: Istio's traffic-management tasks on one cluster", async (t) => {
  const blocker = runtimeE2eBlocker();
  if (blocker !== undefined) return t.skip(blocker);
  const c = await startMeshCluster("traffic");
  t.after(() => c.close());
  const t0 = performance.now();
  const ready = {
    bookinfo: started(() => setUpBookinfo(c)),
    tcp: started(() => setUpTcpEcho(c)),
    circuit: started(() => setUpCircuitBreaking(c)),
    mirror: started(() => setUpMirroring(c)),
  };
  const timings: string[] = [];
  const task = (name: string, setup: Promise<void>, run: (c: MeshCluster, t: TestContext) => Promise<void>) =>
    t.test(name, async (st) => {
      await setup;
      const start = performance.now();
      try {
        await run(c, st);
      } finally {
        timings.push(`${name} ${Math.round(performance.now() - start)} ms`);
      }
    });
  await Promise.allSettled(Object.values(ready));
  timings.push(`setup (all namespaces) ${Math.round(performance.now() - t0)} ms`);
  await task("Request Routing", ready.bookinfo, requestRouting);
  await task("Fault Injection", ready.bookinfo, faultInjection);
  await task("Traffic Shifting", ready.bookinfo, trafficShifting);
  await task("Request Timeouts", ready.bookinfo, requestTimeouts);
  await task("TCP Traffic Shifting", ready.tcp, tcpTrafficShifting);
  await task("Circuit Breaking", ready.circuit, circuitBreaking);
  await task("Mirroring", ready.mirror, mirroring);
  t.diagnostic(timings.join("; "));
});
