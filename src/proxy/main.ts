#!/usr/bin/env node
// The proxy executable. File mode: `node dist/src/proxy/main.js --config file.json [--cert-dir DIR]`
// (SIGHUP reloads the config file and the certificates). Sidecar mode: `--xds unix:PATH --token-file F
// --pod-name P --pod-namespace NS --pod-ip IP [--admin-socket S]` (config and certificate from the
// control plane). Either refuses to start without the original-destination addon. `--gateway` runs a
// primary and `--workers N` worker processes (default: the CPUs, at most 4; 0: one per CPU) that share
// the gateway ports; a worker re-runs this file and is told everything else by its primary.
import cluster from "node:cluster";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { isShoalError } from "../common/errors.js";
import { loadOriginalDst } from "../native/original-dst.js";
import { fileIdentity, noIdentity } from "./file-identity.js";
import { parseProxyConfig } from "./proxy-config.js";
import { startProxy } from "./proxy.js";
import { gatewayWorkerCount } from "./workers/count.js";
import { runXdsMode } from "./xds-mode.js";

const USAGE =
  "usage: main.js --config FILE [--cert-dir DIR] [--idle-timeout-ms N] [--max-connections N] [--inbound-port N] [--outbound-port N] [--admin-port N] [--tunnel-port N]\n" +
  "       main.js --xds unix:PATH --token-file FILE --pod-name P --pod-namespace NS --pod-ip IP [--admin-socket PATH] [--gateway [--workers N]]";

async function main(): Promise<void> {
  if (cluster.isWorker) {
    const { runGatewayWorker } = await import("./workers/worker.js");
    return runGatewayWorker();
  }
  const { values } = parseArgs({
    options: {
      config: { type: "string" },
      "cert-dir": { type: "string" },
      "idle-timeout-ms": { type: "string" },
      "max-connections": { type: "string" },
      "inbound-port": { type: "string" },
      "outbound-port": { type: "string" },
      "admin-port": { type: "string" },
      "tunnel-port": { type: "string" },
      xds: { type: "string" },
      "token-file": { type: "string" },
      "pod-name": { type: "string" },
      "pod-namespace": { type: "string" },
      "pod-ip": { type: "string" },
      "admin-socket": { type: "string" },
      gateway: { type: "boolean" },
      workers: { type: "string" },
    },
  });
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  if (values.workers !== undefined && values.gateway !== true)
    throw new Error(`--workers applies to a gateway (--gateway) only: a sidecar is one process\n${USAGE}`);
  if (values.xds) {
    const { "token-file": tokenFile, "pod-name": podName, "pod-namespace": podNamespace } = values;
    const podIp = values["pod-ip"];
    if (!tokenFile || !podName || !podNamespace || !podIp) throw new Error(USAGE);
    let workers: number;
    try {
      workers = gatewayWorkerCount(values.workers, availableParallelism());
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${USAGE}`, { cause: err });
    }
    const running = await runXdsMode({
      xds: values.xds,
      tokenFile,
      podName,
      podNamespace,
      podIp,
      adminSocket: values["admin-socket"],
      gateway: values.gateway === true,
      ...(values.gateway === true ? { workers } : {}),
      idleTimeoutMs: num(values["idle-timeout-ms"]),
    });
    const stop = () => void running.close().then(() => process.exit(0));
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
    return;
  }
  if (!values.config) throw new Error(USAGE);
  // No silent fallback: without SO_ORIGINAL_DST the proxy cannot tell where a connection was going.
  const originalDst = loadOriginalDst();
  const parsed = parseProxyConfig(JSON.parse(readFileSync(values.config, "utf8")));
  if (!parsed.ok) throw new Error(`${values.config}: ${parsed.errors.join("; ")}`);
  const files = values["cert-dir"] ? fileIdentity(values["cert-dir"]) : undefined;
  const identity = files ?? noIdentity(parsed.config.mesh.trustDomain);
  const out = process.stdout;
  const proxy = await startProxy({
    config: parsed.config,
    identity,
    originalDst,
    log: (line) => out.write(line + "\n"),
    idleTimeoutMs: num(values["idle-timeout-ms"]),
    // Default: sized from the open-file limit (connection-limit.ts).
    maxConnections: num(values["max-connections"]),
    ports: {
      inbound: num(values["inbound-port"]),
      outbound: num(values["outbound-port"]),
      admin: num(values["admin-port"]),
      tunnel: num(values["tunnel-port"]),
    },
  });
  const p = proxy.ports;
  console.error(
    JSON.stringify({
      event: "proxy_started",
      version: parsed.config.version,
      inbound: p.inbound,
      outbound: p.outbound,
      admin: p.admin,
      tunnel: p.tunnel,
    }),
  );
  // SIGHUP: re-read the config file (and the certificate files); a bad one is refused, the old one kept.
  process.on("SIGHUP", () => {
    try {
      files?.reload();
      proxy.updateConfig(JSON.parse(readFileSync(values.config as string, "utf8")));
      console.error(JSON.stringify({ event: "config_reloaded", version: proxy.config()?.version }));
    } catch (err) {
      console.error(JSON.stringify({ event: "config_rejected", error: (err as Error).message }));
    }
  });
  const stop = () => void proxy.close().then(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

main().catch((err: unknown) => {
  const e = err as Error;
  console.error(isShoalError(err) ? `shoal proxy: ${e.message} (${err.code})` : `shoal proxy: ${e.message}`);
  process.exit(1);
});
