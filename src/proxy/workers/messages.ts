// The messages between a gateway's primary process and its workers (node:cluster IPC, JSON). The primary
// asks, a worker answers with the same id; every question is answered once (ok, or refused with why).
import type { ProxyConfig } from "../proxy-config.js";
import type { StatsExport } from "../stats.js";

/** The workload certificate as PEM (the primary holds the key pair and the CA stream; workers only serve). */
export interface IdentityPem {
  keyPem: string;
  chainPem: string;
  rootsPem: string;
  trustDomain: string;
}

/** What a worker needs to know besides config and identity. */
export interface WorkerSettings {
  /** Address the gateway ports bind (default 0.0.0.0). */
  host?: string;
  /** Config port → port to bind; a port not listed binds `otherPorts`, else itself (tests bind 0). */
  bindPorts?: Record<string, number>;
  otherPorts?: number;
  idleTimeoutMs?: number;
  /** Write access log lines to stdout (default true). */
  accessLog?: boolean;
}

export type ToWorker =
  | {
      id: number;
      type: "init";
      settings: WorkerSettings;
      identity: IdentityPem | undefined;
      config: ProxyConfig | undefined;
    }
  | { id: number; type: "config"; config: ProxyConfig }
  | { id: number; type: "identity"; identity: IdentityPem }
  | { id: number; type: "stats" };

export interface WorkerAnswer {
  id: number;
  type: "answer";
  ok: boolean;
  error?: string;
  /** The config version the worker runs after handling the question. */
  version?: string | null;
  /** Config port → bound port, the gateway ports open now. */
  ports?: [number, number][];
  stats?: StatsExport;
}

export function isWorkerAnswer(m: unknown): m is WorkerAnswer {
  return typeof m === "object" && m !== null && (m as WorkerAnswer).type === "answer";
}

/** A worker's first message: it now listens for questions. */
export const WORKER_HELLO = { type: "hello" } as const;

export function isWorkerHello(m: unknown): boolean {
  return typeof m === "object" && m !== null && (m as { type?: unknown }).type === "hello";
}
