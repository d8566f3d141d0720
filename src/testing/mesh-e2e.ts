// Helpers for the mesh scenario e2e tests: a cluster of their own (state dir + cluster id) driven
// through the `shoal` command as a user would, removed afterwards whatever happened, plus the few
// questions the scenarios ask of it (a pod's name and IP, a command's output in a pod, proxy sync).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DaemonClient } from "../cli/daemon-client.js";
import type { ProxyStatusRow } from "../controlplane/xds/status.js";
import { teardown } from "../runtime/network-teardown.js";
import { isRunning as alive } from "../runtime/proc.js";
import { clusterRunDir } from "../runtime/run-dir.js";
import { testClusterId } from "./runtime-cluster.js";
import { waitFor } from "./runtime-root.js";

export const SHOAL_MAIN = join(process.cwd(), "dist/src/cli/main.js");
export const SAMPLES = join(process.cwd(), "samples");

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export interface MeshCluster {
  clusterId: string;
  stateDir: string;
  shoal(args: string[], o?: { stdin?: string; timeoutMs?: number }): Promise<Run>;
  /** Fails the test with the command's stderr unless it exits 0; returns stdout. */
  ok(args: string[], o?: { stdin?: string; timeoutMs?: number }): Promise<string>;
  /** `pod/NAME` of the first pod labelled app=APP in NS. */
  pod(app: string, ns: string): Promise<string>;
  podIP(app: string, ns: string): Promise<string>;
  /** `shoal exec POD -n NS -- sh -c CMD`. */
  sh(app: string, ns: string, cmd: string): Promise<Run>;
  /** Waits until every pod of NS is Running with all containers (n pods). */
  waitPods(ns: string, n: number, timeoutMs?: number): Promise<void>;
  proxyStatus(): Promise<ProxyStatusRow[]>;
  /** Waits until the proxy of pod NAME.NS ACKed a version other than `before`; resolves to it. */
  waitNewVersion(
    podName: string,
    ns: string,
    before: string | undefined,
    timeoutMs?: number,
  ): Promise<string>;
  close(): Promise<void>;
}

interface PodSummary {
  metadata?: { name?: string };
  status?: { phase?: string; reason?: string; message?: string };
}

function run(env: NodeJS.ProcessEnv, args: string[], stdin = "", timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SHOAL_MAIN, ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => (stdout += c));
    child.stderr.on("data", (c) => (stderr += c));
    child.stdin.on("error", () => undefined);
    child.stdin.end(stdin);
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/**
 * `shoal up` on a fresh state dir and cluster id (plus `upArgs`, e.g. `--config FILE`); close() runs
 * `shoal down` and removes every trace.
 */
export async function startMeshCluster(prefix: string, upArgs: string[] = []): Promise<MeshCluster> {
  const stateDir = await mkdtemp(join(tmpdir(), `shoal-${prefix}-`));
  const clusterId = testClusterId(prefix);
  // The cluster's kubeconfig context goes to a file of its own, never the user's.
  const env = { ...process.env, SHOAL_STATE_DIR: stateDir, KUBECONFIG: join(stateDir, "kubeconfig") };
  const shoal: MeshCluster["shoal"] = (args, o = {}) => run(env, args, o.stdin, o.timeoutMs);
  const ok: MeshCluster["ok"] = async (args, o) => {
    const r = await shoal(args, o);
    if (r.code !== 0) throw new Error(`shoal ${args.join(" ")} exited ${r.code}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  const pods = new Map<string, string>();
  const client = new DaemonClient(stateDir);
  const c: MeshCluster = {
    clusterId,
    stateDir,
    shoal,
    ok,
    pod: async (app, ns) => (await ok(["get", "pod", "-l", `app=${app}`, "-n", ns, "-o", "name"])).trim(),
    podIP: async (app, ns) =>
      (
        await ok(["get", "pod", "-l", `app=${app}`, "-n", ns, "-o", "jsonpath={.items[0].status.podIP}"])
      ).trim(),
    sh: async (app, ns, cmd) => {
      // The scenarios' pods never change: look each up once.
      const key = `${ns}/${app}`;
      const pod = (pods.get(key) ?? pods.set(key, await c.pod(app, ns)).get(key))!;
      return shoal(["exec", pod, "-n", ns, "--", "sh", "-c", cmd]);
    },
    waitPods: async (ns, n, timeoutMs = 20_000) => {
      try {
        await waitFor(
          `${n} pods ready in ${ns}`,
          async () => {
            const phases = (
              await ok(["get", "pods", "-n", ns, "-o", "jsonpath={.items[*].status.phase}"])
            ).trim();
            const list = phases === "" ? [] : phases.split(" ");
            return list.length === n && list.every((p) => p === "Running");
          },
          timeoutMs,
        );
      } catch (err) {
        // Say which pods are not running and why (e.g. a container the cluster cannot run).
        const pods = await ok(["get", "pods", "-n", ns, "-o", "json"])
          .then((text) => (JSON.parse(text) as { items?: PodSummary[] }).items ?? [])
          .catch(() => []);
        const waiting = pods
          .filter((p) => p.status?.phase !== "Running")
          .map(
            (p) =>
              `${p.metadata?.name}: ${p.status?.phase} ${p.status?.reason ?? ""} ${p.status?.message ?? ""}`,
          );
        throw new Error(`${(err as Error).message} (${pods.length} pods)\n${waiting.join("\n")}`, {
          cause: err,
        });
      }
    },
    // In-process, so polling it measures the control plane and not the CLI's start-up.
    proxyStatus: () => client.proxyStatus(),
    waitNewVersion: (podName, ns, before, timeoutMs = 10_000) =>
      waitFor(
        `a new config ACKed by ${podName}.${ns}`,
        async () => {
          const row = (await c.proxyStatus()).find((r) => r.podName === podName && r.namespace === ns);
          return row?.state === "SYNCED" && row.versionAcked !== before ? row.versionAcked : undefined;
        },
        timeoutMs,
      ),
    close: async () => {
      await shoal(["down"]).catch(() => undefined);
      // Whatever happened above, nothing of this cluster survives the test.
      const pid = Number((await readFile(join(stateDir, "daemon.pid"), "utf8").catch(() => "")).trim());
      if (pid > 0 && alive(pid)) process.kill(pid, "SIGKILL");
      await teardown(clusterId).catch(() => undefined);
      if (existsSync(clusterRunDir(clusterId)))
        await rm(clusterRunDir(clusterId), { recursive: true, force: true });
      await rm(stateDir, { recursive: true, force: true });
    },
  };
  try {
    await ok(["up", "--cluster-id", clusterId, ...upArgs]);
  } catch (err) {
    await c.close();
    throw err;
  }
  return c;
}

/**
 * Runs `tcpdump -A FILTER` on eth0 inside a pod's network namespace while `during` runs; resolves to its
 * ASCII output (what crossed the pod's wire). tcpdump is stopped whatever `during` does.
 */
export async function captureDuring(
  netns: string,
  filter: string,
  during: () => Promise<unknown>,
): Promise<string> {
  const dump = spawn(
    "ip",
    ["netns", "exec", netns, "tcpdump", "-i", "eth0", "-n", "-l", "-U", "-A", filter],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let err = "";
  dump.stdout.on("data", (d) => (out += d));
  dump.stderr.on("data", (d) => (err += d));
  const exited = new Promise((r) => dump.once("close", r));
  try {
    await waitFor("tcpdump listening", () => err.includes("listening on") || dump.exitCode !== null, 5000);
    if (dump.exitCode !== null) throw new Error(`tcpdump exited ${dump.exitCode}: ${err}`);
    await during();
    // Let the last packets reach the output.
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    if (dump.pid !== undefined && dump.exitCode === null) process.kill(dump.pid, "SIGTERM");
    await exited;
  }
  return out;
}

/** `NAME` of the first pod matching a label selector (`app=reviews,version=v2`) in NS. */
export async function podName(c: MeshCluster, selector: string, ns: string): Promise<string> {
  const name = (
    await c.ok(["get", "pods", "-l", selector, "-n", ns, "-o", "jsonpath={.items[0].metadata.name}"])
  ).trim();
  if (name === "") throw new Error(`no pod matches ${selector} in ${ns}`);
  return name;
}

/** Applies YAML text from stdin into NS (the task's `kubectl apply -f - <<EOF`). */
export function applyText(c: MeshCluster, yaml: string, ns: string): Promise<string> {
  return c.ok(["apply", "-f", "-", "-n", ns], { stdin: yaml });
}

/** Deletes what YAML text names from NS; missing resources are fine (clean-up after a failed step). */
export function deleteText(c: MeshCluster, yaml: string, ns: string): Promise<string> {
  return c.ok(["delete", "-f", "-", "-n", ns, "--ignore-not-found"], { stdin: yaml });
}

export interface Reply {
  /** HTTP status as curl prints it (`000` when no answer came). */
  code: string;
  body: string;
  /** The x-request-id the request carried, to find its access log lines. */
  id: string;
}

const REPLY_END = "--shoal-e2e-reply-end--";

/**
 * N curl requests made one after another from APP's pod in one `shoal exec`, the i-th tagged with
 * `x-request-id: TAG-i` (sidecars and bookinfo's services pass it on, so every hop's access log line can
 * be found by it). `curlArgs` is what follows `curl -s` (options and URL, shell-quoted as needed).
 */
export async function curlMany(
  c: MeshCluster,
  app: string,
  ns: string,
  n: number,
  curlArgs: string,
  tag: string,
): Promise<Reply[]> {
  const r = await c.sh(
    app,
    ns,
    `i=1; while [ $i -le ${n} ]; do curl -s -H "x-request-id: ${tag}-$i" -w '\\n%{http_code}\\n${REPLY_END}\\n' ${curlArgs}; i=$((i+1)); done`,
  );
  const chunks = r.stdout.split(`\n${REPLY_END}\n`).slice(0, n);
  if (chunks.length !== n) throw new Error(`${n} replies expected from ${app}.${ns}: ${r.stdout}${r.stderr}`);
  return chunks.map((chunk, i) => {
    const cut = chunk.lastIndexOf("\n");
    return { code: chunk.slice(cut + 1), body: chunk.slice(0, Math.max(cut, 0)), id: `${tag}-${i + 1}` };
  });
}

/** How many times each value occurs. */
export function tally<T extends string>(values: T[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** One line of a proxy's access log, fields named as in DESIGN.md §5 (quotes removed, `-` kept). */
export interface AccessLogEntry {
  line: string;
  /** `GET /path HTTP/1.1`, or `- - -` for a TCP connection. */
  request: string;
  code: string;
  flags: string;
  details: string;
  terminationDetails: string;
  requestId: string;
  authority: string;
  upstreamHost: string;
  cluster: string;
  downstreamLocal: string;
  downstreamRemote: string;
  sni: string;
  routeName: string;
}

/** The access log lines in a proxy's output (other lines, such as its own events, are skipped). */
export function parseAccessLog(text: string): AccessLogEntry[] {
  const out: AccessLogEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("[")) continue;
    const f = (line.match(/\[[^\]]*\]|"[^"]*"|\S+/g) ?? []).map((t) =>
      t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t,
    );
    if (f.length !== 22) continue;
    out.push({
      line,
      request: f[1]!,
      code: f[2]!,
      flags: f[3]!,
      details: f[4]!,
      terminationDetails: f[5]!,
      requestId: f[13]!,
      authority: f[14]!,
      upstreamHost: f[15]!,
      cluster: f[16]!,
      downstreamLocal: f[18]!,
      downstreamRemote: f[19]!,
      sni: f[20]!,
      routeName: f[21]!,
    });
  }
  return out;
}

/** The access log of POD's sidecar (`shoal logs POD -n NS -c istio-proxy`). */
export async function sidecarLog(c: MeshCluster, pod: string, ns: string): Promise<AccessLogEntry[]> {
  return parseAccessLog(await c.ok(["logs", pod, "-n", ns, "-c", "istio-proxy"]));
}

/**
 * Polls POD's sidecar log (every 200 ms) until `pick` finds what it wants in it; resolves to that. Access
 * log lines are written when a request or connection ends, a moment after the client saw its answer.
 */
export async function waitForLog<T>(
  c: MeshCluster,
  pod: string,
  ns: string,
  what: string,
  pick: (entries: AccessLogEntry[]) => T | undefined,
  timeoutMs = 5000,
): Promise<T> {
  let last: AccessLogEntry[] = [];
  try {
    return await waitFor(
      what,
      async () => {
        last = await sidecarLog(c, pod, ns);
        const found = pick(last);
        if (found === undefined) await new Promise((r) => setTimeout(r, 200));
        return found;
      },
      timeoutMs,
    );
  } catch (err) {
    const tail = last.slice(-10).map((e) => e.line);
    throw new Error(`${(err as Error).message}; last lines of ${pod}.${ns}:\n${tail.join("\n")}`, {
      cause: err,
    });
  }
}
