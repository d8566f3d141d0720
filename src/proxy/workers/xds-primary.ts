// A gateway with workers in the local cluster: this process keeps the one config stream (XdsClient) and
// the workload certificate (its CA stream), and its GatewayWorkers serve the gateway ports. A config is
// ACKed only once every worker applied it, and NACKed when one refused it; each new certificate or trust
// bundle goes to every worker. Admin (unix socket and 127.0.0.1:15000), Prometheus (:15090) and health
// (:15021) are served here: stats are the sum over workers, ready = every worker listens with the config.
import { once } from "node:events";
import { readFile, rm } from "node:fs/promises";
import type http from "node:http";
import { adminServer } from "../admin.js";
import { describeCertificates } from "../certificates.js";
import { healthServer } from "../health.js";
import { prometheusServer } from "../metrics-server.js";
import type { ProxyConfig } from "../proxy-config.js";
import { PROXY_PORTS } from "../proxy-config.js";
import { XdsClient } from "../xds-client.js";
import { xdsIdentity } from "../xds-identity.js";
import type { XdsIdentity } from "../xds-identity.js";
import type { XdsModeOptions } from "../xds-mode.js";
import type { IdentityPem } from "./messages.js";
import { GatewayWorkers } from "./pool.js";

const event = (name: string, fields: Record<string, unknown> = {}) =>
  console.error(JSON.stringify({ time: new Date().toISOString(), event: name, ...fields }));

async function listen(server: http.Server, where: { port: number; host: string } | { path: string }) {
  server.listen(where);
  await Promise.race([once(server, "listening"), once(server, "error").then(([e]) => Promise.reject(e))]);
}

function pemOf(identity: XdsIdentity): IdentityPem | undefined {
  const m = identity.client.current;
  return m
    ? {
        keyPem: m.keyPem,
        chainPem: m.chainPem,
        rootsPem: m.trustBundlePem,
        trustDomain: identity.trustDomain,
      }
    : undefined;
}

export async function runXdsPrimary(
  o: XdsModeOptions & { workers: number },
): Promise<{ close(): Promise<void> }> {
  const token = async () => (await readFile(o.tokenFile, "utf8")).trim();
  // Set once they exist; configs that arrive earlier are kept by the client.
  const live: { pool?: GatewayWorkers; identity?: XdsIdentity } = {};
  let stopped = false;
  const xds = new XdsClient({
    target: o.xds,
    token,
    node: {
      id: `router~${o.podIp}~${o.podName}.${o.podNamespace}~${o.podNamespace}.svc.cluster.local`,
      podName: o.podName,
      namespace: o.podNamespace,
    },
    onConfig: async (config: ProxyConfig) => {
      // Before the workers exist the config is kept by the client and handed to them at start; after,
      // it is applied on every worker before the client ACKs it (a refusal throws: NACK).
      await live.pool?.pushConfig(config);
      if (config.trust) live.identity?.client.applyTrust(config.trust);
      event("config_applied", { version: config.version, workers: o.workers });
    },
  });
  xds.on("nack", (n) => event("config_rejected", { version: n.version, errors: n.errors }));
  xds.on("disconnected", (err, retryInMs) => event("xds_disconnected", { code: err.code, retryInMs }));
  xds.on("connected", () => event("xds_connected", { target: o.xds }));
  xds.start();
  const id = await xdsIdentity({ channel: xds.channel, token, log: event, stopped: () => stopped });
  event("certificate_ready", { spiffeId: id.spiffeId });
  live.identity = id;
  if (xds.config?.trust) id.client.applyTrust(xds.config.trust);
  const workers = new GatewayWorkers({
    count: o.workers,
    settings: {
      ...(o.host ? { host: o.host } : {}),
      ...(o.gatewayBindPorts ? { bindPorts: o.gatewayBindPorts } : {}),
      ...(o.gatewayOtherPorts !== undefined ? { otherPorts: o.gatewayOtherPorts } : {}),
      ...(o.idleTimeoutMs !== undefined ? { idleTimeoutMs: o.idleTimeoutMs } : {}),
    },
    ...(o.workerExec ? { exec: o.workerExec, args: [] } : {}),
    event,
  });
  // Read and handed over in one step: a config arriving from now on is pushed to the forked workers.
  live.pool = workers;
  const starting = workers.start(xds.config, pemOf(id));
  const pushIdentity = () => {
    const pem = pemOf(id);
    if (pem)
      workers
        .pushIdentity(pem)
        .catch((err: Error) => event("certificate_push_failed", { error: err.message }));
  };
  id.client.on("rotated", pushIdentity);
  id.client.on("trustUpdated", pushIdentity);
  await starting;
  const ready = () => id.client.current !== undefined && workers.ready();
  const servers: http.Server[] = [];
  const health = healthServer(ready);
  await listen(health, { port: o.healthPort ?? PROXY_PORTS.health, host: "0.0.0.0" });
  servers.push(health);
  const source = {
    config: () => workers.config,
    stats: () => workers.stats(),
    ready,
    certificates: () => (id.chainPem ? describeCertificates(id.chainPem, id.rootsPem, new Date()) : []),
  };
  if (o.adminSocket) {
    const admin = adminServer(source);
    await rm(o.adminSocket, { force: true });
    await listen(admin, { path: o.adminSocket });
    servers.push(admin);
  }
  if (o.ports?.admin !== null) {
    const admin = adminServer(source);
    await listen(admin, { port: o.ports?.admin ?? PROXY_PORTS.admin, host: "127.0.0.1" });
    servers.push(admin);
  }
  if (o.ports?.prometheus !== null) {
    const prometheus = prometheusServer(async () => (await workers.stats()).mesh);
    await listen(prometheus, {
      port: o.ports?.prometheus ?? PROXY_PORTS.prometheus,
      host: o.host ?? "0.0.0.0",
    });
    servers.push(prometheus);
  }
  event("proxy_started", {
    workers: workers.pids(),
    gateway: Object.fromEntries(workers.gatewayPorts()),
    version: workers.config?.version ?? null,
  });
  return {
    async close() {
      stopped = true;
      xds.close();
      id.client.stop();
      for (const s of servers) {
        s.close();
        s.closeAllConnections();
      }
      await workers.close();
    },
  };
}
