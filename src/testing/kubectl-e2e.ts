// Helpers for the e2e tests that drive a live local cluster with the machine's real kubectl: the cluster's
// kubeconfig in KUBECONFIG, a `shoal` on PATH (for `<(shoal kube-inject -f …)`), and lines typed through
// `bash -c` exactly as the tutorials write them, from the repository root (so `samples/…` paths resolve).
import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MeshCluster, Run } from "./mesh-e2e.js";
import { SHOAL_MAIN, startMeshCluster } from "./mesh-e2e.js";

export const KUBECTL = "/usr/bin/kubectl";

/**
 * Why kubectl e2e tests cannot run here (skip), or undefined. As root a missing kubectl is a broken
 * set-up, not a reason to skip: it throws, so the test fails saying what is missing.
 */
export function kubectlBlocker(): string | undefined {
  if (existsSync(KUBECTL)) return undefined;
  if (process.getuid?.() === 0) throw new Error(`these tests need the real kubectl at ${KUBECTL}`);
  return `needs kubectl at ${KUBECTL}`;
}

export interface KubectlCluster {
  c: MeshCluster;
  env: NodeJS.ProcessEnv;
  /** Runs a bash script (the tutorial's lines) against the cluster. */
  bash(script: string, timeoutMs?: number): Promise<Run>;
  /** Like bash() but fails with the output unless it exits 0; resolves to stdout. */
  ok(script: string, timeoutMs?: number): Promise<string>;
  /** Starts a long-running command (`kubectl logs -f`, `get -w`); its output so far is in `out()`. */
  background(script: string): { child: ChildProcess; out(): string; stop(): Promise<void> };
  close(): Promise<void>;
}

/** A live cluster (`shoal up` on a fresh state dir) for kubectl; close() removes every trace of it. */
export async function startKubectlCluster(prefix: string): Promise<KubectlCluster> {
  const c = await startMeshCluster(prefix);
  const bin = await mkdtemp(join(tmpdir(), `shoal-${prefix}-bin-`));
  const shoal = join(bin, "shoal");
  await writeFile(shoal, `#!/bin/sh\nexec "${process.execPath}" "${SHOAL_MAIN}" "$@"\n`);
  await chmod(shoal, 0o755);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${bin}:${process.env["PATH"] ?? "/usr/bin:/bin"}`,
    SHOAL_STATE_DIR: c.stateDir,
    KUBECONFIG: join(c.stateDir, "kubeconfig"),
    HOME: c.stateDir,
  };
  const spawnBash = (script: string) =>
    spawn("bash", ["-c", script], { env, cwd: process.cwd(), stdio: ["ignore", "pipe", "pipe"] });
  const bash: KubectlCluster["bash"] = (script, timeoutMs = 30_000) =>
    new Promise((resolve, reject) => {
      const child = spawnBash(script);
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      child.once("error", reject);
      child.once("close", (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, stdout, stderr });
      });
    });
  const running = new Set<ChildProcess>();
  return {
    c,
    env,
    bash,
    ok: async (script, timeoutMs) => {
      const r = await bash(script, timeoutMs);
      if (r.code !== 0) throw new Error(`\`${script}\` exited ${r.code}:\n${r.stderr}${r.stdout}`);
      return r.stdout;
    },
    background: (script) => {
      // Its own process group, so stopping it ends kubectl too and not just bash.
      const child = spawn("bash", ["-c", `exec ${script}`], {
        env,
        cwd: process.cwd(),
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
      running.add(child);
      let out = "";
      child.stdout?.on("data", (d) => (out += d));
      child.stderr?.on("data", (d) => (out += d));
      const exited = new Promise<void>((r) => child.once("close", () => r()));
      return {
        child,
        out: () => out,
        stop: async () => {
          running.delete(child);
          if (child.exitCode === null && child.pid !== undefined) {
            try {
              process.kill(-child.pid, "SIGKILL");
            } catch {
              // already gone
            }
          }
          await exited;
        },
      };
    },
    close: async () => {
      for (const child of running)
        if (child.pid !== undefined && child.exitCode === null) {
          try {
            process.kill(-child.pid, "SIGKILL");
          } catch {
            // already gone
          }
        }
      await c.close();
      await rm(bin, { recursive: true, force: true });
    },
  };
}

/** The tutorials' connectivity check for S1: `… | grep "hello" && echo 'connection succeeded' || echo 'connection rejected'`. */
export function s1Probe(port: number, host = "tcp-echo"): string {
  const target =
    host === "tcp-echo"
      ? `'echo "port ${port}" | nc tcp-echo ${port}'`
      : `"echo \\"port ${port}\\" | nc ${host} ${port}"`;
  return `kubectl exec "$(kubectl get pod -l app=curl -n foo -o jsonpath={.items..metadata.name})" -c curl -n foo -- sh -c ${target} | grep "hello" && echo 'connection succeeded' || echo 'connection rejected'`;
}

/** Whether /usr/bin/python3 has the Kubernetes client (Debian's python3-kubernetes). */
export function hasPythonKubernetes(): boolean {
  return spawnSync("/usr/bin/python3", ["-c", "import kubernetes"], { stdio: "ignore" }).status === 0;
}
