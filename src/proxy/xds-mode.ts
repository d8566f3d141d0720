// The proxy as a sidecar (or, with `gateway`, as a gateway) of the local cluster: config from the control plane's stream (XdsClient) and
// the certificate from its CA (bootstrap token from a file), the capture listeners started once the
// certificate is there, the admin also on a unix socket for the control plane, and health on 15021.
// Ready = a config and a certificate. A gateway with `workers` > 1 runs as a primary with that many
// worker processes instead (workers/xds-primary.ts).
import { once } from "node:events";
import { readFile, rm } from "node:fs/promises";
import type http from "node:http";
import { loadOriginalDst } from "../native/original-dst.js";
import type { OriginalDstLookup } from "../native/original-dst.js";
import { adminServer } from "./admin.js";
import { healthServer } from "./health.js";
import type { Proxy, ProxyPorts } from "./proxy.js";
import { startProxy } from "./proxy.js";
import type { ProxyConfig } from "./proxy-config.js";
import { PROXY_PORTS } from "./proxy-config.js";
import { XdsClient } from "./xds-client.js";
import { xdsIdentity } from "./xds-identity.js";
import type { XdsIdentity } from "./xds-identity.js";

export interface XdsModeOptions {
  /** `unix:/run/shoal/ID/xds.sock`. */
  xds: string;
  tokenFile: string;
  podName: string;
  podNamespace: string;
  podIp: string;
  /** Also serve the admin here (unix socket); the control plane reads /config_dump and /ready through it. */
  adminSocket?: string | undefined;
  idleTimeoutMs?: number | undefined;
  healthPort?: number | undefined;
  /** Gateway mode: node id `router~…`, the Gateway servers' ports instead of capture listeners. */
  gateway?: boolean | undefined;
  /** Listener ports other than Istio's (benchmarks running several proxies on one host). */
  ports?: ProxyPorts | undefined;
  /** Original destination without capture (benchmarks); default SO_ORIGINAL_DST via the native addon. */
  originalDst?: OriginalDstLookup | undefined;
  /** Gateway only: worker processes sharing the gateway ports (default 1: this process serves them). */
  workers?: number | undefined;
  /** Gateway workers: address the gateway ports bind (default 0.0.0.0). */
  host?: string | undefined;
  /** Gateway workers: config port → port to bind; others bind `gatewayOtherPorts` (tests: 0), else their own. */
  gatewayBindPorts?: Record<string, number> | undefined;
  gatewayOtherPorts?: number | undefined;
  /** Gateway workers: the script they run (default this process's own, which must start them). */
  workerExec?: string | undefined;
}

const event = (name: string, fields: Record<string, unknown> = {}) =>
  console.error(JSON.stringify({ time: new Date().toISOString(), event: name, ...fields }));

async function listen(server: http.Server, where: { port: number; host: string } | { path: string }) {
  server.listen(where);
  await Promise.race([once(server, "listening"), once(server, "error").then(([e]) => Promise.reject(e))]);
}

export async function runXdsMode(o: XdsModeOptions): Promise<{ close(): Promise<void> }> {
  if (o.gateway && o.workers !== undefined && o.workers > 1) {
    // Loaded only by a gateway with workers.
    const { runXdsPrimary } = await import("./workers/xds-primary.js");
    return runXdsPrimary({ ...o, workers: o.workers });
  }
  // No silent fallback: without SO_ORIGINAL_DST the proxy cannot tell where a connection was going.
  const originalDst = o.originalDst ?? loadOriginalDst();
  const token = async () => (await readFile(o.tokenFile, "utf8")).trim();
  // Set once the listeners are up; configs that arrive earlier are kept by the client.
  const live: { proxy?: Proxy; identity?: XdsIdentity } = {};
  let stopped = false;
  const xds = new XdsClient({
    target: o.xds,
    token,
    node: {
      id: `${o.gateway ? "router" : "sidecar"}~${o.podIp}~${o.podName}.${o.podNamespace}~${o.podNamespace}.svc.cluster.local`,
      podName: o.podName,
      namespace: o.podNamespace,
    },
    onConfig: (config: ProxyConfig) => {
      // Before the listeners exist the config is kept by the client and used at start.
      live.proxy?.updateConfig(config);
      if (config.trust) live.identity?.client.applyTrust(config.trust);
      event("config_applied", { version: config.version });
    },
  });
  xds.on("nack", (n) => event("config_rejected", { version: n.version, errors: n.errors }));
  xds.on("disconnected", (err, retryInMs) => event("xds_disconnected", { code: err.code, retryInMs }));
  xds.on("connected", () => event("xds_connected", { target: o.xds }));
  xds.start();
  const identity = await xdsIdentity({
    channel: xds.channel,
    token,
    log: event,
    stopped: () => stopped,
  });
  event("certificate_ready", { spiffeId: identity.spiffeId });
  // Trust pushed before the certificate arrived; later configs apply theirs as they come.
  live.identity = identity;
  if (xds.config?.trust) identity.client.applyTrust(xds.config.trust);
  const out = process.stdout;
  const started = await startProxy({
    config: xds.config,
    identity,
    originalDst,
    log: (line) => out.write(line + "\n"),
    ...(o.ports ? { ports: o.ports } : {}),
    ...(o.idleTimeoutMs !== undefined ? { idleTimeoutMs: o.idleTimeoutMs } : {}),
    ...(o.gateway
      ? { gateway: { onError: (error: string) => event("gateway_port_failed", { error }) } }
      : {}),
  });
  // A config that arrived while the listeners were starting.
  live.proxy = started;
  if (xds.config && xds.config.version !== started.config()?.version) started.updateConfig(xds.config);
  const ready = () => started.config() !== undefined && identity.client.current !== undefined;
  const health = healthServer(ready);
  await listen(health, { port: o.healthPort ?? PROXY_PORTS.health, host: "0.0.0.0" });
  let admin: http.Server | undefined;
  if (o.adminSocket) {
    admin = adminServer({
      config: () => started.config(),
      stats: started.stats,
      certificates: () => started.certificates(),
    });
    await rm(o.adminSocket, { force: true });
    await listen(admin, { path: o.adminSocket });
  }
  event("proxy_started", { ...started.ports, version: started.config()?.version ?? null });
  return {
    async close() {
      stopped = true;
      xds.close();
      identity.client.stop();
      health.close();
      admin?.close();
      admin?.closeAllConnections();
      await started.close();
    },
  };
}
