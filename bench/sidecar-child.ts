// One sidecar of the memory benchmark: the xDS-mode proxy as a pod runs it (config stream, certificate
// from the control plane, capture listeners, admin, Prometheus, health), except that its listeners use
// the ports given and, with no iptables on loopback, every accepted connection's original destination
// is the benchmark's app. Imports only what `dist/src/proxy/main.js --xds` does, and the build bundles it
// like main.js (dist/bench/sidecar-child.bundle.mjs, scripts/build-proxy.mjs), which the benchmark runs.
//   usage: node dist/bench/sidecar-child.js XDS TOKEN_FILE POD NAMESPACE PORT_BASE APP_PORT
import { getHeapSpaceStatistics } from "node:v8";
import { runXdsMode } from "../src/proxy/xds-mode.js";

const [xds, tokenFile, podName, podNamespace, base, app] = process.argv.slice(2);
if (!xds || !tokenFile || !podName || !podNamespace || !base || !app) {
  console.error("usage: sidecar-child.js XDS TOKEN_FILE POD NAMESPACE PORT_BASE APP_PORT");
  process.exit(2);
}
const b = Number(base);
const running = await runXdsMode({
  xds,
  tokenFile,
  podName,
  podNamespace,
  podIp: "127.0.0.1",
  ports: { inbound: b, outbound: b + 1, admin: b + 2, prometheus: b + 3, tunnel: b + 5 },
  healthPort: b + 4,
  originalDst: () => ({ address: "127.0.0.1", port: Number(app), family: "IPv4" }),
});
// SIGUSR2: one line with the V8 heap and external memory, so the benchmark can split JS from native.
// With it, each V8 heap space's used and committed bytes (what a large idle heap is made of).
process.on("SIGUSR2", () => {
  const m = process.memoryUsage();
  const spaces = Object.fromEntries(
    getHeapSpaceStatistics().map((s) => [s.space_name, [s.space_used_size, s.physical_space_size]]),
  );
  console.error(
    JSON.stringify({
      event: "memory",
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      spaces,
    }),
  );
});
process.once("SIGTERM", () => void running.close().then(() => process.exit(0)));
