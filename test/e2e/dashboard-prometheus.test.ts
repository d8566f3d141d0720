// `shoal dashboard prometheus` on a running cluster: the machine's Prometheus scrapes every proxy, and
// after traffic a PromQL query over its HTTP API returns the request count the proxies report. Stopping
// the command (Ctrl-C) ends Prometheus and removes its directory.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { DaemonClient } from "../../src/cli/daemon-client.js";
import { parsePrometheusText } from "../../src/observe/prom-text.js";
import { PROMETHEUS_BIN } from "../../src/observe/prometheus-run.js";
import { SAMPLES, SHOAL_MAIN, startMeshCluster } from "../../src/testing/mesh-e2e.js";
import { runtimeE2eBlocker, waitFor } from "../../src/testing/runtime-root.js";

const REQUESTS = 5;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test("dashboard prometheus: PromQL returns the request count the proxies report", async (t) => {
  const blocker = runtimeE2eBlocker();
  if (blocker !== undefined) return t.skip(blocker);
  if (!existsSync(PROMETHEUS_BIN))
    assert.fail(`${PROMETHEUS_BIN} is missing: install the Debian package prometheus`);
  const c = await startMeshCluster("prom");
  t.after(() => c.close());
  await c.ok(["create", "namespace", "foo"]);
  await c.ok(["label", "namespace", "foo", "istio-injection=enabled"]);
  await c.ok(["apply", "-f", join(SAMPLES, "httpbin"), "-f", join(SAMPLES, "curl"), "-n", "foo"]);
  await c.waitPods("foo", 2);
  const get = async () =>
    (await c.sh("curl", "foo", 'curl -s -o /dev/null -w "%{http_code}" http://httpbin.foo:8000/ip')).stdout;
  await waitFor("httpbin answers", async () => ((await get()) === "200" ? 1 : undefined), 15_000);
  for (let i = 1; i < REQUESTS; i++) assert.equal(await get(), "200");

  // What the proxies report: httpbin's own proxy, reporter=destination.
  const httpbinPod = (await c.pod("httpbin", "foo")).replace("pod/", "");
  const client = new DaemonClient(c.stateDir);
  const dumps = await client.call<{ proxies: Array<{ pod: string; metrics: string }> }>(
    "GET",
    "/v1/observe/proxies?tail=0",
  );
  const reported = parsePrometheusText(dumps.proxies.find((p) => p.pod === httpbinPod)?.metrics ?? "")
    .filter((s) => s.name === "istio_requests_total" && s.labels["reporter"] === "destination")
    .reduce((n, s) => n + s.value, 0);
  assert.equal(reported, REQUESTS, "httpbin's proxy counted every request");

  const prom = spawn(process.execPath, [SHOAL_MAIN, "dashboard", "prometheus", "--browser=false"], {
    env: { ...process.env, SHOAL_STATE_DIR: c.stateDir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((r) => prom.once("exit", (code) => r(code)));
  t.after(async () => {
    if (prom.pid !== undefined && prom.exitCode === null) process.kill(prom.pid, "SIGTERM");
    await exited;
  });
  let out = "";
  let err = "";
  prom.stdout.on("data", (d) => (out += d));
  prom.stderr.on("data", (d) => (err += d));
  const url = await waitFor(
    "Prometheus' URL",
    () => /http:\/\/127\.0\.0\.1:\d+\//.exec(out)?.[0],
    40_000,
  ).catch(() => assert.fail(`no URL printed: ${out}${err}`));
  const promPid = Number(/pid (\d+)/.exec(err)?.[1]);
  const dir = /data in (\S+)/.exec(err)?.[1];
  assert.ok(promPid > 0 && dir, `the command names Prometheus' pid and directory: ${err}`);

  const query = async (q: string) => {
    const r = (await (await fetch(`${url}api/v1/query?${new URLSearchParams({ query: q })}`)).json()) as {
      status: string;
      data: { result: Array<{ value: [number, string] }> };
    };
    assert.equal(r.status, "success", q);
    return r.data.result;
  };
  const promql = 'sum(istio_requests_total{destination_workload="httpbin",reporter="destination"})';
  const value = await waitFor(
    "Prometheus scraped httpbin's proxy",
    async () => {
      const r = await query(promql);
      return r.length > 0 && Number(r[0]?.value[1]) === reported ? Number(r[0]?.value[1]) : undefined;
    },
    40_000,
  ).catch(async () =>
    assert.fail(`${promql} = ${JSON.stringify(await query(promql))}, proxies say ${reported}`),
  );
  assert.equal(value, REQUESTS);
  // Every proxy is a target, labelled by namespace and pod.
  // Every proxy is a target (each is scraped on its own schedule), labelled by namespace and pod.
  const up = await waitFor(
    "both proxies scraped",
    async () => {
      const r = await query('up{job="shoal-proxies"} == 1');
      return r.length === 2 ? r : undefined;
    },
    20_000,
  );
  assert.equal(up.length, 2, "httpbin's and curl's proxies are scraped");
  assert.ok((await query(`sum(rate(istio_requests_total{destination_workload="httpbin"}[1m]))`)).length <= 1);

  // Ctrl-C: Prometheus is stopped and its directory removed.
  process.kill(prom.pid!, "SIGINT");
  assert.equal(await exited, 0);
  assert.equal(alive(promPid), false, "Prometheus exited with the command");
  assert.equal(existsSync(dir!), false, "its directory is gone");
});
