// Servers and probes for NetworkPolicy tests on the wire, run inside pods as `node -e <script> …`.
//   server NAME SPEC…   SPEC is tcp:PORT or udp:PORT; a TCP connection first gets "NAME\n" and then
//                       every line it sends echoed back (so it can stay open); a UDP datagram gets "NAME"
//   probe TARGET…       TARGET is tcp:IP:PORT or udp:IP:PORT; a TCP probe sends an HTTP request line and
//                       waits for the first line back; prints one JSON line per target in order:
//                       {"target":…, "ok":true, "server":NAME} or {"target":…, "ok":false, "error":CODE}
import { spawn } from "node:child_process";

export const netpolServerScript = `
const net = require("node:net");
const dgram = require("node:dgram");
const [name, ...specs] = process.argv.slice(1);
for (const spec of specs) {
  const [kind, port] = spec.split(":");
  if (kind === "udp") {
    const sock = dgram.createSocket("udp4");
    sock.on("message", (_m, from) => sock.send(name, from.port, from.address));
    sock.bind(Number(port), () => console.log(name + " listening on " + spec));
  } else {
    const server = net.createServer((s) => {
      s.on("error", () => {});
      s.write(name + "\\n");
      s.pipe(s);
    });
    server.listen(Number(port), () => console.log(name + " listening on " + spec));
  }
}
process.on("SIGTERM", () => process.exit(0));
`;

export const netpolProbeScript = `
const net = require("node:net");
const dgram = require("node:dgram");
const TIMEOUT = 2000;
function probe(target) {
  const [kind, ip, port] = target.split(":");
  return new Promise((resolve) => {
    const done = (r) => { clearTimeout(timer); resolve({ target, ...r }); };
    const timer = setTimeout(() => { cleanup(); resolve({ target, ok: false, error: "TIMEOUT" }); }, TIMEOUT);
    let cleanup = () => {};
    if (kind === "udp") {
      const sock = dgram.createSocket("udp4");
      cleanup = () => sock.close();
      sock.on("error", (e) => { cleanup(); done({ ok: false, error: e.code }); });
      sock.on("message", (m) => { cleanup(); done({ ok: true, server: String(m) }); });
      sock.connect(Number(port), ip, () => sock.send("hi"));
    } else {
      // An HTTP request line, so the outside world's web servers answer too (ours echo it).
      const s = net.connect(Number(port), ip, () => s.write("GET / HTTP/1.0\\r\\n\\r\\n"));
      cleanup = () => s.destroy();
      let buf = "";
      s.on("data", (d) => {
        buf += d;
        if (buf.includes("\\n")) { cleanup(); done({ ok: true, server: buf.split("\\n")[0] }); }
      });
      s.on("error", (e) => { cleanup(); done({ ok: false, error: e.code }); });
      s.on("close", () => done({ ok: false, error: "CLOSED" }));
    }
  });
}
Promise.all(process.argv.slice(1).map(probe)).then((rs) => {
  for (const r of rs) console.log(JSON.stringify(r));
});
`;

export function netpolServer(name: string, ...specs: string[]): string[] {
  return [process.execPath, "-e", netpolServerScript, name, ...specs];
}

export interface ProbeResult {
  target: string;
  ok: boolean;
  server?: string;
  error?: string;
}

/** Runs the probes from inside network namespace `netns`; resolves to one result per target. */
export function probeFrom(netns: string, targets: string[]): Promise<ProbeResult[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "ip",
      ["netns", "exec", netns, process.execPath, "-e", netpolProbeScript, ...targets],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.once("error", reject);
    child.once("close", (code) => {
      if (code !== 0) return reject(new Error(`probe in ${netns} exited ${code}: ${err}`));
      resolve(
        out
          .split("\n")
          .filter((l) => l !== "")
          .map((l) => JSON.parse(l) as ProbeResult),
      );
    });
  });
}
