// Where an idle mTLS connection's memory goes in plain Node, without the proxy: a small server process
// holds N connections in four shapes, and its private memory growth per connection is shown beside what
// bench/sidecar-memory.sh measures for the sidecar. The difference between the last shape and the sidecar
// is what the proxy itself adds; the rest is Node's TLSWrap and OpenSSL's per-connection state.
//   raw       accepted TCP sockets, nothing else
//   tls       each wrapped in a server TLSSocket (mesh certificate, client certificate required)
//   peercert  and the peer certificate read once (as identity extraction does)
//   tls+app   and piped to a TCP connection to an app (the shape of an inbound sidecar connection)
// Loopback only; the server process is killed after each shape.
//   usage: node dist/bench/sidecar-memory-tls.js [CONNECTIONS=3000]
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { testIdentity, testRoot } from "../src/ca/test-support.js";

const N = Number(process.argv[2] ?? 3000);
const SHAPES = ["raw", "tls", "peercert", "tls+app"];

const SERVER = `
const tls = require("node:tls"), net = require("node:net"), fs = require("node:fs");
const [pemFile, shape] = process.argv.slice(1);
const pem = JSON.parse(fs.readFileSync(pemFile, "utf8"));
const held = [];
const app = net.createServer((s) => s.on("error", () => {}));
app.listen(0, "127.0.0.1", () => {
  const appPort = app.address().port;
  const secureContext = tls.createSecureContext({ key: pem.key, cert: pem.cert, ca: pem.ca });
  const server = net.createServer((raw) => {
    raw.on("error", () => {});
    if (shape === "raw") return void held.push(raw);
    const t = new tls.TLSSocket(raw, { isServer: true, secureContext, requestCert: true, rejectUnauthorized: true });
    t.on("error", () => {});
    t.once("secure", () => {
      if (shape !== "tls") t.getPeerCertificate();
      held.push(t);
      if (shape !== "tls+app") return;
      const up = net.connect(appPort, "127.0.0.1");
      up.on("error", () => {});
      t.pipe(up);
      up.pipe(t);
    });
  });
  server.listen(0, "127.0.0.1", () => console.log(server.address().port));
});
`;

function privateKiB(pid: number): number {
  const t = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const k = (f: string) => Number(new RegExp(`^${f}:\\s+(\\d+) kB`, "m").exec(t)?.[1] ?? 0);
  return k("Private_Clean") + k("Private_Dirty");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "shoal-memory-tls-"));
  const mesh = await testRoot();
  const pemFile = join(dir, "server.json");
  writeFileSync(pemFile, JSON.stringify(await testIdentity(mesh, "bench", "server")));
  const client = await testIdentity(mesh, "bench", "client");
  const context = tls.createSecureContext({ key: client.key, cert: client.cert, ca: client.ca });
  console.log(`| shape | connections | private KB per connection |\n|---|---|---|`);
  try {
    for (const shape of SHAPES) {
      const server = spawn(process.execPath, ["-e", SERVER, pemFile, shape], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      try {
        const [line] = (await once(server.stdout!, "data")) as [Buffer];
        const port = Number(String(line).trim());
        await sleep(1000);
        const before = privateKiB(server.pid!);
        const sockets: net.Socket[] = [];
        const one = () =>
          new Promise<void>((resolve) => {
            const s =
              shape === "raw"
                ? net.connect(port, "127.0.0.1", () => resolve(void sockets.push(s)))
                : tls.connect(
                    { host: "127.0.0.1", port, secureContext: context, checkServerIdentity: () => undefined },
                    () => resolve(void sockets.push(s)),
                  );
            s.once("error", () => resolve());
          });
        let next = 0;
        await Promise.all(
          Array.from({ length: 50 }, async () => {
            while (next < N) {
              next++;
              await one();
            }
          }),
        );
        await sleep(2000);
        const per = ((privateKiB(server.pid!) - before) * 1024) / sockets.length / 1000;
        console.log(`| ${shape} | ${sockets.length} | ${per.toFixed(1)} |`);
        for (const s of sockets) s.destroy();
      } finally {
        server.kill("SIGKILL");
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
