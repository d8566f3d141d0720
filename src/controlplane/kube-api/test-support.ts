// For tests: a daemon with the Kubernetes API on a loopback port, backed by a real store in a temp dir
// (no runtime, no network namespaces), a kubeconfig for it, and the machine's kubectl run against it.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commandOnlyResolver } from "../controllers/containers.js";
import type { DaemonHandle, DaemonOptions } from "../daemon.js";
import { startDaemon } from "../daemon.js";
import type { ClusterRuntime } from "../runtime-port.js";
import { RecordingRuntime } from "../runtime-port.js";
import { kubeconfigFor, renderKubeconfig } from "./kubeconfig.js";

export const KUBECTL = "/usr/bin/kubectl";
export const hasKubectl = existsSync(KUBECTL);

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface KubeApiFixture {
  dir: string;
  daemon: DaemonHandle;
  kubeconfig: string;
  /** Runs kubectl against the fixture (asynchronously: the API answers from this process). */
  kubectl(args: string[], o?: { stdin?: string; timeoutMs?: number }): Promise<KubectlResult>;
}

export async function withKubeApi(
  fn: (f: KubeApiFixture) => Promise<void>,
  o: { runtime?: ClusterRuntime; kubeApi?: DaemonOptions["kubeApi"] } = {},
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "shoal-kubeapi-"));
  const daemon = await startDaemon({
    stateDir: join(dir, "state"),
    runtime: o.runtime ?? new RecordingRuntime(),
    resolve: commandOnlyResolver,
    clusterId: "kt1",
    log: () => {},
    kubeApi: { port: 0, ...o.kubeApi },
  });
  try {
    const api = daemon.kubeApi!;
    const kubeconfig = join(dir, "kubeconfig");
    await writeFile(kubeconfig, renderKubeconfig(kubeconfigFor(api.pki, api.url)), { mode: 0o600 });
    const kubectl = (args: string[], ko: { stdin?: string; timeoutMs?: number } = {}) =>
      new Promise<KubectlResult>((resolve, reject) => {
        const child = spawn(
          KUBECTL,
          [`--kubeconfig=${kubeconfig}`, `--cache-dir=${join(dir, "cache")}`, ...args],
          {
            env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: dir },
            stdio: ["pipe", "pipe", "pipe"],
          },
        );
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
        child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
        const timer = setTimeout(() => child.kill("SIGTERM"), ko.timeoutMs ?? 30_000);
        child.once("error", reject);
        child.once("close", (code) => {
          clearTimeout(timer);
          resolve({ code: code ?? -1, stdout, stderr });
        });
        child.stdin.end(ko.stdin ?? "");
      });
    await fn({ dir, daemon, kubeconfig, kubectl });
  } finally {
    await daemon.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
