// A gateway worker: one of the processes a gateway's primary forks (node:cluster). It serves the gateway
// ports (shared with the other workers: each accepts from the kernel) with the config and certificate the
// primary pushes, answers each push once it applied it (so the primary ACKs only what every worker runs),
// and hands its counters to the primary, which answers /stats and /stats/prometheus with the sum. Access
// log lines go to the shared stdout, one write per line. A worker whose primary is gone exits.
import { createSecureContext } from "node:tls";
import type { SecureContext } from "node:tls";
import { ShoalError } from "../../common/errors.js";
import type { ProxyIdentity } from "../connection-record.js";
import type { Proxy } from "../proxy.js";
import { startProxy } from "../proxy.js";
import type { ProxyConfig } from "../proxy-config.js";
import type { IdentityPem, ToWorker, WorkerAnswer, WorkerSettings } from "./messages.js";
import { WORKER_HELLO } from "./messages.js";

/** The certificate the primary pushed; new handshakes use the newest one. */
class PushedIdentity implements ProxyIdentity {
  #context: SecureContext | undefined;
  #pem: IdentityPem | undefined;

  set(pem: IdentityPem): void {
    // Built before it is swapped in: a bad one throws and the previous one stays.
    const context = createSecureContext({
      key: pem.keyPem,
      cert: pem.chainPem,
      ca: pem.rootsPem,
      minVersion: "TLSv1.2",
    });
    this.#context = context;
    this.#pem = pem;
  }
  getSecureContext(): SecureContext {
    if (!this.#context) throw new ShoalError("IDENTITY_NOT_READY", "no workload certificate yet");
    return this.#context;
  }
  get rootsPem(): string {
    return this.#pem?.rootsPem ?? "";
  }
  get trustDomain(): string {
    return this.#pem?.trustDomain ?? "";
  }
  get chainPem(): string | undefined {
    return this.#pem?.chainPem;
  }
}

const event = (name: string, fields: Record<string, unknown> = {}) =>
  console.error(
    JSON.stringify({ time: new Date().toISOString(), event: name, worker: process.pid, ...fields }),
  );

/** How long a worker waits for the ports of a new config to open before it answers anyway. */
const PORTS_WAIT_MS = 2000;

/** Resolves once every gateway port of the config is bound or reported failed (bounded). */
async function portsSettled(proxy: Proxy, config: ProxyConfig, failed: Set<number>): Promise<void> {
  const want = (config.gateway?.ports ?? []).map((p) => p.port);
  const deadline = Date.now() + PORTS_WAIT_MS;
  for (;;) {
    const bound = proxy.gatewayPorts();
    if (want.every((p) => bound.has(p) || failed.has(p)) || Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function runGatewayWorker(): Promise<void> {
  const send = (a: Omit<WorkerAnswer, "type">): void => void process.send?.({ type: "answer", ...a });
  const identity = new PushedIdentity();
  let proxy: Proxy | undefined;
  const failedPorts = new Set<number>();
  const answer = (id: number, extra: Partial<WorkerAnswer> = {}): void =>
    send({
      id,
      ok: true,
      version: proxy?.config()?.version ?? null,
      ports: [...(proxy?.gatewayPorts() ?? [])],
      ...extra,
    });

  const handle = async (m: ToWorker): Promise<void> => {
    switch (m.type) {
      case "init": {
        if (m.identity) identity.set(m.identity);
        proxy = await start(m.settings, m.config, identity, (port, error) => {
          failedPorts.add(port);
          event("gateway_port_failed", { error });
        });
        if (m.config) await portsSettled(proxy, m.config, failedPorts);
        return answer(m.id);
      }
      case "config": {
        if (!proxy) throw new ShoalError("WORKER_NOT_STARTED", "config before init");
        failedPorts.clear();
        proxy.updateConfig(m.config); // throws (keeping the old one) when the config is bad
        await portsSettled(proxy, m.config, failedPorts);
        return answer(m.id);
      }
      case "identity":
        identity.set(m.identity);
        return answer(m.id);
      case "stats":
        return answer(m.id, { stats: proxy?.stats.export() });
    }
  };

  // One question at a time, in order: a config never overtakes the init or an earlier config.
  let queue = Promise.resolve();
  process.on("message", (m: ToWorker) => {
    queue = queue.then(() =>
      handle(m).catch((err: unknown) => send({ id: m.id, ok: false, error: (err as Error).message })),
    );
  });
  process.send?.(WORKER_HELLO);
  // The primary is gone (or let go of this worker): stop serving.
  process.on("disconnect", () => {
    const stop = proxy?.close() ?? Promise.resolve();
    void stop.finally(() => process.exit(0));
  });
  process.once("SIGTERM", () => process.disconnect?.());
  process.once("SIGINT", () => undefined); // the primary decides; a terminal's Ctrl-C reaches it too
}

async function start(
  s: WorkerSettings,
  config: ProxyConfig | undefined,
  identity: ProxyIdentity,
  onPortFailed: (port: number, error: string) => void,
): Promise<Proxy> {
  const out = process.stdout;
  const bind = (port: number) => s.bindPorts?.[String(port)] ?? s.otherPorts ?? port;
  return startProxy({
    config,
    identity,
    // A gateway captures nothing, so no original destination is ever read.
    originalDst: () => undefined,
    // The primary serves admin and Prometheus (with the sum over workers).
    ports: { inbound: 0, outbound: 0, admin: null, prometheus: null },
    ...(s.host ? { host: s.host } : {}),
    ...(s.idleTimeoutMs !== undefined ? { idleTimeoutMs: s.idleTimeoutMs } : {}),
    log: s.accessLog === false ? () => undefined : (line) => out.write(line + "\n"),
    gateway: {
      bindPort: bind,
      onError: (error: string) => onPortFailed(Number(/gateway port (\d+)/.exec(error)?.[1] ?? -1), error),
    },
  });
}
