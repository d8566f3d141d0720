// `shoal dashboard prometheus`, the effects: the machine's Prometheus in a temporary directory on a
// loopback port, scraping every proxy through a small loopback relay (proxies serve their metrics inside
// their pods; the relay asks the daemon, which reads each proxy's admin), with the file_sd targets file
// rewritten whenever the set of running proxies changes. stop() ends Prometheus by PID and removes it all.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, openSync, closeSync } from "node:fs";
import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { createServer, request } from "node:http";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ShoalError } from "../api/errors.js";
import type { DaemonClient } from "../cli/daemon-client.js";
import { fileSdTargets, prometheusYaml, proxyTargets } from "./prometheus-config.js";

export const PROMETHEUS_BIN = "/usr/bin/prometheus";

export interface RunningPrometheus {
  url: string;
  pid: number;
  dir: string;
  /** Resolves when Prometheus exits by itself (or after stop()). */
  exited: Promise<void>;
  stop(): Promise<void>;
}

/** One proxy's metrics through the daemon's socket, as text. */
function proxyMetrics(
  socket: string,
  namespace: string,
  pod: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const qs = new URLSearchParams({ namespace, pod });
    const req = request(
      { socketPath: socket, path: `/v1/observe/metrics?${qs}`, agent: false, timeout: 5000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end();
  });
}

function startRelay(client: DaemonClient): Promise<Server> {
  const server = createServer((req, res) => {
    const m = /^\/proxies\/([^/]+)\/([^/]+)\/metrics$/.exec(req.url ?? "");
    if (!m) {
      res.writeHead(404).end("scrape /proxies/NAMESPACE/POD/metrics\n");
      return;
    }
    proxyMetrics(client.socket, decodeURIComponent(m[1] as string), decodeURIComponent(m[2] as string))
      .then(({ status, text }) => {
        res.writeHead(status === 200 ? 200 : 503, { "content-type": "text/plain; version=0.0.4" }).end(text);
      })
      .catch((err: Error) => res.writeHead(503).end(`${err.message}\n`));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

/** A port free on 127.0.0.1 now (Prometheus is told one; it cannot report a port it picked). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null)
      throw new ShoalError("PROMETHEUS_EXITED", `prometheus exited with ${child.exitCode}`);
    const ok = await fetch(`${url}-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new ShoalError("PROMETHEUS_NOT_READY", `prometheus was not ready within ${timeoutMs / 1000} s`);
}

export async function runPrometheus(o: {
  client: DaemonClient;
  port?: number;
  bin?: string;
  log?: (line: string) => void;
  refreshMs?: number;
}): Promise<RunningPrometheus> {
  const bin = o.bin ?? PROMETHEUS_BIN;
  if (!existsSync(bin))
    throw new ShoalError(
      "NO_PROMETHEUS",
      `Prometheus is not installed (${bin} missing): install the Debian package "prometheus" (apt-get install prometheus)`,
    );
  const dir = await mkdtemp(join(tmpdir(), "shoal-prometheus-"));
  const targetsFile = join(dir, "targets.json");
  let relay: Server | undefined;
  let timer: NodeJS.Timeout | undefined;
  let child: ChildProcess | undefined;
  const cleanup = async () => {
    if (timer) clearInterval(timer);
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child!.once("exit", r));
      process.kill(child.pid, "SIGTERM");
      const t = setTimeout(
        () => child?.pid !== undefined && child.exitCode === null && process.kill(child.pid, "SIGKILL"),
        5000,
      );
      await gone;
      clearTimeout(t);
    }
    await new Promise<void>((r) => (relay ? relay.close(() => r()) : r()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    relay = await startRelay(o.client);
    const relayAddr = `127.0.0.1:${(relay.address() as AddressInfo).port}`;
    let written = "";
    const sync = async () => {
      const text = JSON.stringify(
        fileSdTargets(relayAddr, proxyTargets(await o.client.list({ kind: "Pod" }))),
        null,
        1,
      );
      if (text === written) return;
      // Prometheus must never read a half-written file.
      await writeFile(`${targetsFile}.tmp`, text);
      await rename(`${targetsFile}.tmp`, targetsFile);
      written = text;
    };
    await sync();
    timer = setInterval(
      () => void sync().catch((err: Error) => o.log?.(`targets not updated: ${err.message}`)),
      o.refreshMs ?? 2000,
    );
    await writeFile(join(dir, "prometheus.yml"), prometheusYaml(targetsFile));
    const port = o.port || (await freePort());
    const logFd = openSync(join(dir, "prometheus.log"), "a");
    child = spawn(
      bin,
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ["ignore", logFd, logFd] },
    );
    closeSync(logFd);
    const started = child;
    const exited = new Promise<void>((r) => started.once("exit", () => r()));
    await new Promise<void>((resolve, reject) => {
      started.once("spawn", resolve);
      started.once("error", reject);
    });
    const url = `http://127.0.0.1:${port}/`;
    await waitReady(url, started, 30_000);
    o.log?.(`prometheus (pid ${started.pid}) scraping ${JSON.parse(written).length} proxies; data in ${dir}`);
    return { url, pid: started.pid as number, dir, exited, stop: cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
