// Tiny servers for runtime tests, run inside pods as `node -e <script> <name> <port>…`: each one
// answers with its own name and the caller's address, so a test can see which endpoint it reached and
// which source IP arrived.
//   tcp:<port>   writes "<name> <caller-ip>\n" and closes
//   http:<port>  answers every request with {"server":"<name>","origin":"<caller-ip>"}
//   fwd:<port>:<host>:<port>  forwards each connection to host:port and logs "proxied <caller-ip>"
//                (a stand-in sidecar for capture tests: it always dials the one fixed target)

export const whoamiServerScript = `
const net = require("node:net");
const http = require("node:http");
const [name, ...specs] = process.argv.slice(1);
const caller = (addr) => String(addr).replace(/^::ffff:/, "");
for (const spec of specs) {
  const [kind, port] = spec.split(":");
  const [, , host, hostPort] = spec.split(":");
  const forward = (s) => {
    s.on("error", () => {});
    console.log("proxied " + caller(s.remoteAddress));
    const up = net.connect(Number(hostPort), host);
    up.on("error", () => s.destroy());
    s.pipe(up).pipe(s);
  };
  const server =
    kind === "fwd"
      ? net.createServer(forward)
      : kind === "http"
      ? http.createServer((req, res) => {
          res.setHeader("content-type", "application/json");
          res.end(JSON.stringify({ server: name, origin: caller(req.socket.remoteAddress) }) + "\\n");
        })
      : net.createServer((s) => {
          s.on("error", () => {});
          s.end(name + " " + caller(s.remoteAddress) + "\\n");
        });
  server.listen(Number(port), () => console.log(name + " listening on " + spec));
}
process.on("SIGTERM", () => process.exit(0));
`;

/** argv that runs the whoami server as `name` on the given specs (`tcp:9000`, `http:8080`). */
export function whoamiServer(name: string, ...specs: string[]): string[] {
  return [process.execPath, "-e", whoamiServerScript, name, ...specs];
}

/** How many "listening on" lines a whoami server prints once it is ready. */
export function whoamiSpecs(argv: string[]): number {
  return argv.filter((a) => /^(tcp|http|fwd):/.test(a)).length;
}
