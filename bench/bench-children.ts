// The child processes the loopback benchmarks (dataplane.ts, conns.ts) start: the HTTP app, the bulk sink
// and one Shoal sidecar (file-mode config and certificates, a fixed original destination, no access logs).
// Each prints its port(s) on one line once it listens, and exits on SIGTERM.
//
// The sidecar is the file-mode proxy (`--config`, `--cert-dir`: same config parsing, file identity and
// startProxy) except for capture: without iptables the original destination of each accepted connection
// is fixed per process instead of read with SO_ORIGINAL_DST (one getsockopt per connection).
import { once } from "node:events";
import { readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { fileIdentity } from "../src/proxy/file-identity.js";
import { parseProxyConfig } from "../src/proxy/proxy-config.js";
import { startProxy } from "../src/proxy/proxy.js";

/** The HTTP application: GET anything → `body` as JSON, keep-alive. */
export async function runApp(body: string): Promise<void> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
  server.keepAliveTimeout = 120_000;
  // A deep backlog: the churn benchmark opens a connection per request.
  server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 });
  await once(server, "listening");
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
}

/**
 * The bulk sink: a connection starts with an 8-byte big-endian length L; the sink counts the L bytes that
 * follow and answers the count as a line. No half-close is needed, so every proxy carries it the same way.
 */
export async function runSink(): Promise<void> {
  const server = net.createServer((s) => {
    s.on("error", () => undefined);
    let header = Buffer.alloc(0);
    let want = -1;
    let got = 0;
    s.on("data", (d: Buffer) => {
      if (want < 0) {
        header = Buffer.concat([header, d]);
        if (header.length < 8) return;
        want = Number(header.readBigUInt64BE(0));
        got = header.length - 8;
      } else got += d.length;
      if (want >= 0 && got >= want) s.end(`${got}\n`);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
}

/** One Shoal sidecar: file-mode config and certificates, a fixed original destination. */
export async function runSidecar(configFile: string, certDir: string, dstAddress: string, dstPort: string) {
  const parsed = parseProxyConfig(JSON.parse(readFileSync(configFile, "utf8")));
  if (!parsed.ok) throw new Error(`${configFile}: ${parsed.errors.join("; ")}`);
  const dst = { address: dstAddress, port: Number(dstPort), family: "IPv4" as const };
  const proxy = await startProxy({
    config: parsed.config,
    identity: fileIdentity(certDir),
    originalDst: () => dst,
    ports: { inbound: 0, outbound: 0, admin: null, prometheus: null },
    host: "127.0.0.1",
    // Access logs off, like the haproxy pair (no `log` lines): this measures the forwarding path.
    log: () => undefined,
  });
  process.stdout.write(`${proxy.ports.inbound} ${proxy.ports.outbound}\n`);
}

export const CHILD_USAGE = "app | sink | sidecar CONFIG CERT_DIR DST_ADDRESS DST_PORT";

/** Runs the child `args` names (`app`, `sink`, `sidecar …`); false if it names none of them. */
export async function runChild(args: readonly string[], appBody: string): Promise<boolean> {
  const [mode, ...rest] = args;
  if (mode !== "app" && mode !== "sink" && mode !== "sidecar") return false;
  process.once("SIGTERM", () => process.exit(0));
  if (mode === "app") await runApp(appBody);
  else if (mode === "sink") await runSink();
  else await runSidecar(rest[0] as string, rest[1] as string, rest[2] as string, rest[3] as string);
  return true;
}
