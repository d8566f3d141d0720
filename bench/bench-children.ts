// The child processes the loopback benchmarks (dataplane.ts, conns.ts) start: the HTTP app, the bulk sink
// and one Shoal sidecar (file-mode config and certificates, a fixed original destination, no access logs).
// Each prints its port(s) on one line once it listens, and exits on SIGTERM. The Node floor ("pipe") is
// what any Node proxy pays before doing anything: a bare TLS byte pump with the same mesh certificates.
//
// The sidecar is the file-mode proxy (`--config`, `--cert-dir`: same config parsing, file identity and
// startProxy) except for capture: without iptables the original destination of each accepted connection
// is fixed per process instead of read with SO_ORIGINAL_DST (one getsockopt per connection).
import { once } from "node:events";
import { readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import tls from "node:tls";
import type { AddressInfo, Socket } from "node:net";
import { join } from "node:path";
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
    ports: { inbound: 0, outbound: 0, admin: null, prometheus: null, tunnel: 0 },
    host: "127.0.0.1",
    // Access logs off, like the haproxy pair (no `log` lines): this measures the forwarding path.
    log: () => undefined,
  });
  process.stdout.write(`${proxy.ports.inbound} ${proxy.ports.outbound} ${proxy.ports.tunnel}\n`);
}

/** Bytes one way from `a` to `b`, reading paused while `b` is full; either side's end or error closes both. */
function pump(a: Socket, b: Socket): void {
  a.on("data", (d: Buffer) => {
    if (!b.write(d)) {
      a.pause();
      b.once("drain", () => a.resume());
    }
  });
  a.on("error", () => b.destroy());
  a.on("close", () => b.destroy());
}

/**
 * The Node floor: one side of a TLS byte pump pair with the mesh certificates, each connection relayed
 * 1:1 (client side: plaintext in, mTLS out; server side: mTLS in, plaintext to `upstream`). No HTTP
 * parsing, policy, routing, logs or metrics: the sockets, streams and TLS every Node proxy pays for.
 */
export async function runPipe(side: string, certDir: string, upstream: number): Promise<void> {
  const read = (f: string) => readFileSync(join(certDir, f));
  const creds = { key: read("key.pem"), cert: read("cert-chain.pem"), ca: read("root-cert.pem") };
  const relay = (down: Socket, up: Socket) => {
    down.setNoDelay(true);
    up.setNoDelay(true);
    pump(down, up);
    pump(up, down);
  };
  // The client side resumes the last TLS session it got, as Shoal's sidecars do.
  let session: Buffer | undefined;
  const connectUp = () => {
    // The chain is verified against the mesh root; like the haproxy pair, no SAN check.
    const up = tls.connect({
      ...creds,
      port: upstream,
      host: "127.0.0.1",
      checkServerIdentity: () => undefined,
      ...(session ? { session } : {}),
    });
    up.on("session", (s: Buffer) => (session = s));
    return up;
  };
  const server =
    side === "server"
      ? tls.createServer({ ...creds, requestCert: true, rejectUnauthorized: true }, (s) =>
          relay(s, net.connect(upstream, "127.0.0.1")),
        )
      : net.createServer((s) => relay(s, connectUp()));
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
}

export const CHILD_USAGE =
  "app | sink | sidecar CONFIG CERT_DIR DST_ADDRESS DST_PORT | pipe client|server CERT_DIR UPSTREAM_PORT";

/** Runs the child `args` names (`app`, `sink`, `sidecar …`); false if it names none of them. */
export async function runChild(args: readonly string[], appBody: string): Promise<boolean> {
  const [mode, ...rest] = args;
  if (mode !== "app" && mode !== "sink" && mode !== "sidecar" && mode !== "pipe") return false;
  process.once("SIGTERM", () => process.exit(0));
  if (mode === "app") await runApp(appBody);
  else if (mode === "sink") await runSink();
  else if (mode === "pipe") await runPipe(rest[0] as string, rest[1] as string, Number(rest[2]));
  else await runSidecar(rest[0] as string, rest[1] as string, rest[2] as string, rest[3] as string);
  return true;
}
