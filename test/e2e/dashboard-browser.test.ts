// The dashboard in a real browser (headless Debian Chromium through playwright-core) on an S2-like cluster:
// sidecar clients and a legacy one call httpbin, one call is denied by an AuthorizationPolicy. The page
// must show the workloads and the plaintext edge (read from the list the graph keeps beside its canvas),
// decide a what-if to DENY with the rule's policy name, highlight the denial in the access log and list
// the legacy client on the mTLS page. Screenshots go to test-output/dashboard/.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { chromium } from "playwright-core";
import type { Page } from "playwright-core";
import { SAMPLES, SHOAL_MAIN, startMeshCluster } from "../../src/testing/mesh-e2e.js";
import { runtimeE2eBlocker, waitFor } from "../../src/testing/runtime-root.js";

const CHROMIUM = "/usr/bin/chromium";
const OUT = join(process.cwd(), "test-output", "dashboard");
const DENY_HEADERS = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-headers, namespace: foo}
spec:
  selector: {matchLabels: {app: httpbin}}
  action: DENY
  rules: [{to: [{operation: {paths: ["/headers"]}}]}]
`;

test("dashboard in Chromium: graph with the plaintext edge, what-if DENY by rule, mTLS page", async (t) => {
  const blocker = runtimeE2eBlocker();
  if (blocker !== undefined) return t.skip(blocker);
  if (!existsSync(CHROMIUM)) assert.fail(`${CHROMIUM} is missing: install the Debian package chromium`);
  if (!existsSync("dist/dashboard/app.js")) {
    const b = spawnSync(process.execPath, ["scripts/build-dashboard.mjs"], { encoding: "utf8" });
    assert.equal(b.status, 0, `building the dashboard UI: ${b.stderr}`);
  }
  await mkdir(OUT, { recursive: true });
  const c = await startMeshCluster("dash");
  t.after(() => c.close());
  for (const ns of ["foo", "bar", "legacy"]) await c.ok(["create", "namespace", ns]);
  for (const ns of ["foo", "bar"]) await c.ok(["label", "namespace", ns, "istio-injection=enabled"]);
  const samples = (...names: string[]) => names.flatMap((n) => ["-f", join(SAMPLES, n)]);
  await c.ok(["apply", ...samples("httpbin", "curl"), "-n", "foo"]);
  await c.ok(["apply", ...samples("httpbin", "curl"), "-n", "bar"]);
  await c.ok(["apply", ...samples("curl"), "-n", "legacy"]);
  await c.ok(["apply", "-f", "-"], { stdin: DENY_HEADERS });
  await Promise.all([c.waitPods("foo", 2), c.waitPods("bar", 2), c.waitPods("legacy", 1)]);
  const code = async (from: string, url: string) =>
    (await c.sh("curl", from, `curl -s -o /dev/null -w "%{http_code}" ${url}`)).stdout.trim();
  await waitFor(
    "foo→foo",
    async () => ((await code("foo", "http://httpbin.foo:8000/ip")) === "200" ? 1 : undefined),
    15_000,
  );
  for (const [from, url, want] of [
    ["legacy", "http://httpbin.foo:8000/ip", "200"],
    ["bar", "http://httpbin.bar:8000/ip", "200"],
    ["foo", "http://httpbin.foo:8000/headers", "403"],
  ] as const)
    assert.equal(await code(from, url), want, `${from} → ${url}`);

  // `shoal dashboard` as a user starts it; stopped by its PID whatever happens.
  const dash = spawn(process.execPath, [SHOAL_MAIN, "dashboard", "--port", "0", "--browser=false"], {
    env: { ...process.env, SHOAL_STATE_DIR: c.stateDir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const dashExited = new Promise((r) => dash.once("exit", r));
  t.after(async () => {
    if (dash.pid !== undefined && dash.exitCode === null) process.kill(dash.pid, "SIGTERM");
    await dashExited;
  });
  let out = "";
  let err = "";
  dash.stdout.on("data", (d) => (out += d));
  dash.stderr.on("data", (d) => (err += d));
  const url = await waitFor(
    "the dashboard's URL",
    () => /http:\/\/127\.0\.0\.1:\d+\//.exec(out)?.[0],
    10_000,
  ).catch(() => assert.fail(`no URL printed: ${out}${err}`));

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  t.after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(url);
  try {
    await inBrowser(page);
  } catch (e) {
    // What the page showed when it failed, beside the other screenshots.
    await page.screenshot({ path: join(OUT, "failure.png"), fullPage: true }).catch(() => undefined);
    throw e;
  }
});

async function inBrowser(page: Page): Promise<void> {
  // The graph: every workload, the mTLS edges and the legacy client's plaintext edge.
  const edge = (src: string, dst: string, mtls: boolean) =>
    `#graph-edges li[data-source="${src}"][data-target="${dst}"][data-mtls="${mtls}"]`;
  await page.waitForSelector(edge("legacy/curl", "foo/httpbin", false), { timeout: 20_000 });
  await page.waitForSelector(edge("foo/curl", "foo/httpbin", true));
  await page.waitForSelector(edge("bar/curl", "bar/httpbin", true));
  const nodes = await page.$$eval("#graph-nodes li", (lis) => lis.map((li) => li.getAttribute("data-node")));
  for (const n of ["foo/httpbin", "foo/curl", "bar/httpbin", "bar/curl", "legacy/curl"])
    assert.ok(nodes.includes(n), `node ${n} in ${nodes.join(", ")}`);
  assert.equal(
    await page.locator(edge("legacy/curl", "bar/httpbin", false)).count(),
    0,
    "legacy never called bar",
  );
  const canvasNodes = await page.$eval(
    "#graph",
    (el) => (JSON.parse(el.getAttribute("data-graph") ?? "{}") as { nodes: unknown[] }).nodes.length,
  );
  assert.equal(canvasNodes, nodes.length, "the canvas draws what the list says");
  await page.screenshot({ path: join(OUT, "graph.png"), fullPage: true });

  // The workload page: mode, policy, what-if to a DENY naming the policy, the denied log line.
  await page.click('#graph-nodes a[href="#/workload/foo/httpbin"]');
  await page.waitForSelector('#workload[data-workload="foo/httpbin"]');
  assert.equal(await page.textContent("#workload-mode"), "PERMISSIVE");
  assert.match((await page.textContent("#workload-policies")) ?? "", /DENY foo\/deny-headers/);
  await page.selectOption("#wi-source", "cluster.local/ns/foo/sa/curl");
  await page.fill("#wi-port", "8080");
  await page.fill("#wi-method", "GET");
  await page.fill("#wi-path", "/headers");
  await page.click('#what-if button[type="submit"]');
  const result = await page.waitForSelector('#what-if-result[data-decision="DENY"]');
  assert.equal(await result.getAttribute("data-policy"), "foo/deny-headers");
  assert.match((await result.textContent()) ?? "", /foo\/deny-headers rule 0/);
  await page.waitForSelector("#workload-log li.denied", { timeout: 10_000 });
  assert.match(
    (await page.textContent("#workload-log li.denied")) ?? "",
    /GET \/headers .* 403 .*rbac_access_denied_matched_policy\[ns\[foo\]-policy\[deny-headers\]-rule\[0\]\]/,
  );
  await page.fill("#wi-path", "/ip");
  await page.click('#what-if button[type="submit"]');
  await page.waitForSelector('#what-if-result[data-decision="ALLOW"]');
  await page.fill("#wi-path", "/headers");
  await page.click('#what-if button[type="submit"]');
  await page.waitForSelector('#what-if-result[data-decision="DENY"]');
  await page.screenshot({ path: join(OUT, "workload-what-if.png"), fullPage: true });

  // The mTLS page: httpbin.foo has a plaintext client (not safe), httpbin.bar is safe.
  await page.click("#nav-mtls");
  const fooRow = await page.waitForSelector('#mtls-report tr[data-workload="foo/httpbin"]');
  assert.equal(await fooRow.getAttribute("data-safe"), "false");
  assert.match((await fooRow.textContent()) ?? "", /curl\.legacy/);
  assert.equal(await page.getAttribute('#mtls-report tr[data-workload="bar/httpbin"]', "data-safe"), "true");
  await page.screenshot({ path: join(OUT, "mtls-report.png"), fullPage: true });

  // Live: a new request shows up without reloading.
  const before = await page.getAttribute("#updated", "data-at");
  await page.click('a[href="#/"]');
  await waitFor(
    "a newer state",
    async () => ((await page.getAttribute("#updated", "data-at")) !== before ? 1 : undefined),
    10_000,
  );
}
