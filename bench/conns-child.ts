// The child processes of the connection benchmark (bench/conns.ts): the HTTP app, the bulk sink and one
// Shoal sidecar (file-mode config and certificates, a fixed original destination, no access logs). Each
// prints its port(s) on one line once it listens.
//   usage: node dist/bench/conns-child.js app | sink | sidecar CONFIG CERT_DIR DST_ADDRESS DST_PORT
import { once } from "node:events";
import { readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { fileIdentity } from "../src/proxy/file-identity.js";
import { parseProxyConfig } from "../src/proxy/proxy-config.js";
import { startProxy } from "../src/proxy/proxy.js";

async function runApp(): Promise<void> {
  const body = JSON.stringify({ id: 0, author: "William Shakespeare", year: 1595 });
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
  server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 });
  await once(server, "listening");
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
}

/** A connection starts with an 8-byte length L; the sink counts L bytes and answers the count. */
async function runSink(): Promise<void> {
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

async function runSidecar(configFile: string, certDir: string, dstAddress: string, dstPort: string) {
  const parsed = parseProxyConfig(JSON.parse(readFileSync(configFile, "utf8")));
  if (!parsed.ok) throw new Error(`${configFile}: ${parsed.errors.join("; ")}`);
  const dst = { address: dstAddress, port: Number(dstPort), family: "IPv4" as const };
  const proxy = await startProxy({
    config: parsed.config,
    identity: fileIdentity(certDir),
    originalDst: () => dst,
    ports: { inbound: 0, outbound: 0, admin: null, prometheus: null },
    host: "127.0.0.1",
    log: () => undefined, // no access logs, like the haproxy pair
  });
  process.stdout.write(`${proxy.ports.inbound} ${proxy.ports.outbound}\n`);
}

const [mode, ...rest] = process.argv.slice(2);
process.once("SIGTERM", () => process.exit(0));
if (mode === "app") await runApp();
else if (mode === "sink") await runSink();
else if (mode === "sidecar")
  await runSidecar(rest[0] as string, rest[1] as string, rest[2] as string, rest[3] as string);
else {
  console.error("usage: conns-child.js app | sink | sidecar CONFIG CERT_DIR DST_ADDRESS DST_PORT");
  process.exit(2);
}
