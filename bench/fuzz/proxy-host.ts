// The proxies the fuzz run attacks, in a process of their own so a crash shows as its exit and its memory
// can be read from /proc: an HTTP/1 and an HTTP/2 (h2c) inbound sidecar in front of small apps, and
// (with XDS_TARGET) a sidecar that takes its config from a config stream, as pods do.
// Prints one JSON line with the ports, then serves until killed.
//   usage: node dist/bench/fuzz/proxy-host.js [XDS_TARGET]
import { once } from "node:events";
import http from "node:http";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { testRoot } from "../../src/ca/test-support.js";
import { XdsClient } from "../../src/proxy/xds-client.js";
import { inboundChain, startTestProxy, testConfig, testWorkload } from "../../src/testing/proxy-harness.js";

const xdsTarget = process.argv[2];

const h1App = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => res.end("ok"));
});
h1App.listen(0, "127.0.0.1");
await once(h1App, "listening");
const h2App = http2.createServer();
h2App.on("stream", (stream) => {
  stream.on("error", () => undefined);
  stream.respond({ ":status": 200 });
  stream.end("ok");
});
h2App.listen(0, "127.0.0.1");
await once(h2App, "listening");
const portOf = (s: { address(): unknown }) => (s.address() as AddressInfo).port;

const mesh = await testRoot();
const workload = await testWorkload(mesh, "default", "fuzzed");
const dst = (port: number) => ({ address: "127.0.0.1", port, family: "IPv4" as const });
/** Access logs are dropped: kept, they would grow with every input and hide the proxy's own memory. */
const quiet = { log: () => undefined };

const h1 = await startTestProxy(
  testConfig({ namespace: "default", chains: [inboundChain(portOf(h1App), "PERMISSIVE", "http")] }),
  workload.identity,
  quiet,
);
h1.dst.current = dst(portOf(h1App));
const h2 = await startTestProxy(
  testConfig({ namespace: "default", chains: [inboundChain(portOf(h2App), "PERMISSIVE", "http2")] }),
  workload.identity,
  quiet,
);
h2.dst.current = dst(portOf(h2App));

let xdsPort: number | undefined;
if (xdsTarget) {
  // Started with no config: it accepts nothing until the stream delivers one (fail closed).
  const xp = await startTestProxy(undefined, workload.identity, quiet);
  xp.dst.current = dst(portOf(h1App));
  xdsPort = xp.proxy.ports.inbound;
  const client = new XdsClient({
    target: xdsTarget,
    node: {
      id: "sidecar~127.0.0.1~fuzzed.default~default.svc.cluster.local",
      podName: "fuzzed",
      namespace: "default",
    },
    token: "fuzz",
    // The same path a pod's sidecar takes: a checked config is applied, a bad one throws and is NACKed.
    onConfig: (config) => xp.proxy.updateConfig(config),
  });
  client.start();
}

process.stdout.write(
  `${JSON.stringify({ h1: h1.proxy.ports.inbound, h2: h2.proxy.ports.inbound, xds: xdsPort, appPort: portOf(h1App) })}\n`,
);
