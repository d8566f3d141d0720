// Two pods with Istio-style capture and the Shoal proxy as uid 1337 in each: `echo hi | nc VIP 9000`
// from one pod crosses both proxies over mTLS to a tcp-echo server in the other; a DENY policy closes
// it. Also measures (bounded, printed): idle proxy RSS, connection setup and bulk throughput through
// the pair against the direct path.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile, chmod } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ClusterState, PodState } from "../../src/runtime/cluster-state.js";
import type { Supervisor } from "../../src/runtime/supervisor.js";
import {
  testClusterId,
  testClusterState,
  testContainer,
  testPod,
} from "../../src/testing/runtime-cluster.js";
import { withCluster } from "../../src/testing/runtime-e2e-cluster.js";
import {
  assertNothingLeft,
  execCapture,
  runtimeE2eBlocker,
  waitFor,
} from "../../src/testing/runtime-root.js";
import { testIdentity, testRoot } from "../../src/ca/test-support.js";
import { captureRules, defaultCaptureOptions } from "../../src/runtime/capture-rules.js";
import { clientConfig, serverConfig, tcpEchoScript, writeCertDir } from "../../src/testing/proxy-e2e.js";
import { benchClientScript } from "../../src/testing/proxy-bench.js";
import { addonPaths, loadOriginalDst } from "../../src/native/original-dst.js";

const MAIN = fileURLToPath(new URL("../../src/proxy/main.js", import.meta.url));
const VIP = "10.96.0.20";
const HOST = "tcp-echo.foo.svc.cluster.local";
const server = { namespace: "foo", name: "tcp-echo", ip: "10.244.0.2", serviceAccount: "tcp-echo" };
const client = { namespace: "bar", name: "sleep", ip: "10.244.1.2", serviceAccount: "sleep" };
const SERVER_ID = "spiffe://cluster.local/ns/foo/sa/tcp-echo";

/** Skip only where the test cannot run; as root an addon that does not load fails the test (npm ci builds it). */
function blocker(): string | undefined {
  const b = runtimeE2eBlocker();
  if (b) return b;
  loadOriginalDst(addonPaths());
  return undefined;
}

async function proxyPid(sup: Supervisor, pod: PodState): Promise<number> {
  const st = sup.status(pod.namespace, pod.name).find((s) => s.container === "istio-proxy");
  assert.ok(st?.pid, "proxy is running");
  return st.pid;
}

async function rssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

/** Steal ticks over all CPUs as a share of all ticks, from two /proc/stat samples. */
async function cpuTicks(): Promise<{ steal: number; total: number }> {
  const cpu =
    (await readFile("/proc/stat", "utf8")).split("\n")[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  return { steal: cpu[7] ?? 0, total: cpu.reduce((a, b) => a + b, 0) };
}

test("proxy capture: echo through both proxies over mTLS, a DENY policy closes it, and numbers", async (t) => {
  const why = blocker();
  if (why !== undefined) {
    console.log(`SKIPPED proxy-capture e2e: ${why}`);
    t.skip(why);
    return;
  }
  const work = await mkdtemp(join(tmpdir(), "shoal-proxy-e2e-"));
  t.after(() => rm(work, { recursive: true, force: true }));
  await chmod(work, 0o755);
  const mesh = await testRoot();
  await writeCertDir(join(work, "server-certs"), await testIdentity(mesh, "foo", "tcp-echo"));
  await writeCertDir(join(work, "client-certs"), await testIdentity(mesh, "bar", "sleep"));
  const serverCfg = join(work, "server.json");
  const clientCfg = join(work, "client.json");
  const ports = [9000, 9001];
  await writeFile(serverCfg, JSON.stringify(serverConfig(server, ports)));
  await writeFile(
    clientCfg,
    JSON.stringify(
      clientConfig(client, { host: HOST, vip: VIP, ports }, { ip: server.ip, spiffeId: SERVER_ID }),
    ),
  );
  for (const f of [serverCfg, clientCfg]) await chmod(f, 0o644);

  const id = testClusterId("px");
  const proxy = (cfg: string, certs: string) =>
    testContainer("istio-proxy", [process.execPath, MAIN, "--config", cfg, "--cert-dir", join(work, certs)], {
      uid: 1337,
      gid: 1337,
      startOrder: 5,
    });
  const serverPod = testPod(id, server.namespace, server.name, server.ip, {
    serviceAccount: server.serviceAccount,
    captureRules: captureRules(defaultCaptureOptions()),
    containers: [
      proxy(serverCfg, "server-certs"),
      testContainer("tcp-echo", [
        process.execPath,
        "-e",
        tcpEchoScript,
        "echo:9000",
        "sink:9001",
        "echo:15080",
        "sink:15081",
      ]),
    ],
  });
  const clientPod = testPod(id, client.namespace, client.name, client.ip, {
    serviceAccount: client.serviceAccount,
    captureRules: captureRules(defaultCaptureOptions()),
    containers: [proxy(clientCfg, "client-certs")],
  });
  const svc = {
    namespace: "foo",
    name: "tcp-echo",
    clusterIP: VIP,
    ports: ports.map((p) => ({ name: `tcp-${p}`, port: p, targetPort: p, protocol: "TCP" as const })),
    endpoints: [server.ip],
  };
  const state: ClusterState = testClusterState(id, [serverPod, clientPod], [svc]);

  await withCluster(t, state, async (sup) => {
    const log = (pod: PodState, c: string) =>
      readFile(sup.logPath(pod.namespace, pod.name, c), "utf8").catch(() => "");
    for (const pod of [serverPod, clientPod]) {
      await waitFor(
        `${pod.name} proxy ready`,
        async () => {
          const r = await execCapture(sup, pod, ["curl", "-sf", "http://127.0.0.1:15000/ready"]);
          return r.code === 0;
        },
        10_000,
      );
    }
    await waitFor(
      "tcp-echo listening",
      async () => ((await log(serverPod, "tcp-echo")).match(/listening on/g)?.length ?? 0) === 4,
    );
    const idle = {
      server: await rssKb(await proxyPid(sup, serverPod)),
      client: await rssKb(await proxyPid(sup, clientPod)),
    };

    // Through both proxies: capture → client proxy → mTLS → server's capture → server proxy → app.
    const nc = () => execCapture(sup, clientPod, ["sh", "-c", `echo hi | nc -N -w 5 ${VIP} 9000`]);
    const ok = await nc();
    assert.equal(ok.stdout, "hello hi\n", ok.stderr);
    const stats = await execCapture(sup, serverPod, ["curl", "-sf", "http://127.0.0.1:15000/stats"]);
    assert.match(
      stats.stdout,
      /inbound\|9000\|\|\.source_principal\.spiffe:\/\/cluster\.local\/ns\/bar\/sa\/sleep\.cx_opened: 1/,
    );
    await waitFor("server access log", async () =>
      /inbound\|9000\|\|/.test(await log(serverPod, "istio-proxy")),
    );
    const serverLog = await log(serverPod, "istio-proxy");
    assert.match(
      serverLog,
      /"- - -" 0 - - - "-" 3 9 \d+ - "-" "-" "-" "-" "10\.244\.0\.2:9000" inbound\|9000\|\| 127\.0\.0\.6:\d+ 10\.244\.0\.2:9000 10\.244\.1\.2:\d+ outbound_\.9000_\._\.tcp-echo\.foo\.svc\.cluster\.local -/,
    );
    await waitFor("client access log", async () =>
      /outbound\|9000\|\|/.test(await log(clientPod, "istio-proxy")),
    );
    assert.match(
      await log(clientPod, "istio-proxy"),
      /"10\.244\.0\.2:9000" outbound\|9000\|\|tcp-echo\.foo\.svc\.cluster\.local 10\.244\.1\.2:\d+ 10\.96\.0\.20:9000 10\.244\.1\.2:\d+ - -/,
    );

    // A DENY policy for the client's principal, loaded with SIGHUP: the next connection is closed.
    const deny = {
      apiVersion: "security.istio.io/v1",
      kind: "AuthorizationPolicy",
      metadata: { name: "deny-sleep", namespace: "foo" },
      spec: {
        action: "DENY",
        rules: [{ from: [{ source: { principals: ["cluster.local/ns/bar/sa/sleep"] } }] }],
      },
    };
    await writeFile(serverCfg, JSON.stringify(serverConfig(server, ports, [deny], "s2")));
    process.kill(await proxyPid(sup, serverPod), "SIGHUP");
    await waitFor("reload", async () =>
      /"config_reloaded","version":"s2"/.test(await log(serverPod, "istio-proxy")),
    );
    const denied = await nc();
    assert.equal(denied.stdout, "");
    await waitFor("denial logged", async () =>
      (await log(serverPod, "istio-proxy")).includes(
        "rbac_access_denied_matched_policy[ns[foo]-policy[deny-sleep]-rule[0]]",
      ),
    );
    // Allow again for the measurements.
    await writeFile(serverCfg, JSON.stringify(serverConfig(server, ports, [], "s3")));
    process.kill(await proxyPid(sup, serverPod), "SIGHUP");
    await waitFor("reload", async () =>
      /"config_reloaded","version":"s3"/.test(await log(serverPod, "istio-proxy")),
    );

    // Measurements: through the pair (VIP, captured) vs direct (server ports 15080/15081, which inbound
    // capture skips, dialled as uid 1337, which outbound capture skips).
    const bench = async (args: string[]) => {
      const r = await execCapture(sup, clientPod, [process.execPath, "-e", benchClientScript, ...args]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as Record<string, number>;
    };
    const direct = (args: string[]) => execAs1337(sup, clientPod, args);
    const c0 = await cpuTicks();
    const connPair = await bench(["conn", VIP, "9000", "1000"]);
    const connDirect = await direct(["conn", server.ip, "15080", "1000"]);
    const bulkPair = await bench(["bulk", VIP, "9001", "256"]);
    const bulkDirect = await direct(["bulk", server.ip, "15081", "256"]);
    const c1 = await cpuTicks();
    // Every connection the proxies opened is closed again: nothing leaked.
    for (const pod of [serverPod, clientPod]) {
      const r = await execCapture(sup, pod, ["curl", "-sf", "http://127.0.0.1:15000/stats?format=json"]);
      const counters = (
        JSON.parse(r.stdout) as { counters: Record<string, { opened: number; closed: number }> }
      ).counters;
      for (const [name, c] of Object.entries(counters))
        assert.equal(c.opened, c.closed, `${pod.name} ${name}`);
    }
    const busy = {
      server: await rssKb(await proxyPid(sup, serverPod)),
      client: await rssKb(await proxyPid(sup, clientPod)),
    };
    const steal = ((c1.steal - c0.steal) / Math.max(1, c1.total - c0.total)) * 100;
    const report = {
      idleRssKb: idle,
      rssAfterBenchKb: busy,
      connSetupMs: { pair: connPair, direct: connDirect },
      bulkMBps: {
        pair: bulkPair.mbps,
        direct: bulkDirect.mbps,
        ratio: (bulkPair.mbps ?? 0) / (bulkDirect.mbps ?? 1),
      },
      stealPercent: Math.round(steal * 10) / 10,
    };
    console.log(`PROXY-L4 NUMBERS ${JSON.stringify(report)}`);
    t.diagnostic(JSON.stringify(report));
    assert.equal(bulkPair.bytes, 256 * 1024 * 1024, "every byte crossed the pair");
  });
  await assertNothingLeft(state.clusterId);
});

async function execAs1337(sup: Supervisor, pod: PodState, args: string[]): Promise<Record<string, number>> {
  const { PassThrough } = await import("node:stream");
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks: Buffer[] = [];
  const errs: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  err.on("data", (c: Buffer) => errs.push(c));
  const stdin = new PassThrough();
  stdin.end();
  const code = await sup.exec(pod, [process.execPath, "-e", benchClientScript, ...args], {
    uid: 1337,
    gid: 1337,
    stdin,
    stdout: out,
    stderr: err,
  });
  assert.equal(code, 0, Buffer.concat(errs).toString());
  return JSON.parse(Buffer.concat(chunks).toString()) as Record<string, number>;
}
