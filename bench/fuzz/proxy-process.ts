// Starts the fuzz run's proxy host as a child process and watches it: its ports, whether it is still
// alive (a proxy that dies is a crash finding), and its resident memory from /proc.
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface HostPorts {
  h1: number;
  h2: number;
  xds?: number;
  appPort: number;
}

export interface ProxyProcess {
  ports: HostPorts;
  child: ChildProcess;
  /** Why it ended, once it has (exit code or signal, and its last stderr). */
  ended(): string | undefined;
  rssBytes(): number;
  stop(): Promise<void>;
}

const HOST = fileURLToPath(new URL("./proxy-host.js", import.meta.url));

export async function startProxyProcess(xdsTarget?: string): Promise<ProxyProcess> {
  const child = spawn(process.execPath, [HOST, ...(xdsTarget ? [xdsTarget] : [])], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let end: string | undefined;
  child.stderr!.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  child.once("exit", (code, signal) => (end = `exited (code ${code}, signal ${signal}): ${stderr.trim()}`));
  const ports = await new Promise<HostPorts>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const line = out.split("\n")[0];
      if (out.includes("\n") && line) resolve(JSON.parse(line) as HostPorts);
    });
    child.once("exit", () => reject(new Error(`the proxy host ${end}`)));
  });
  return {
    ports,
    child,
    ended: () => end,
    rssBytes() {
      try {
        const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
        return m ? Number(m[1]) * 1024 : 0;
      } catch {
        return 0;
      }
    },
    async stop() {
      if (end !== undefined) return;
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await gone;
      clearTimeout(timer);
    },
  };
}
