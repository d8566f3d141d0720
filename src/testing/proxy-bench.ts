// The client side of the proxy measurements, run inside a pod as `node -e <script> MODE HOST PORT N`:
//   conn HOST PORT N  N sequential connections, each "x\n" + FIN, timed from connect() to the first reply
//                     byte; prints {p50, p99, mean} in ms.
//   bulk HOST PORT MB writes MB MiB (64 KiB chunks, back-pressure respected), FIN, waits for the sink's
//                     byte count; prints {mbps, bytes, ms}.
export const benchClientScript = `
const net = require("node:net");
const [mode, host, portS, nS] = process.argv.slice(1);
const port = Number(portS), n = Number(nS);
function one() {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    let first;
    const s = net.connect({ host, port, allowHalfOpen: true }, () => s.end("x\\n"));
    s.on("data", () => { if (first === undefined) first = process.hrtime.bigint(); });
    s.on("error", reject);
    s.on("close", () => first === undefined ? reject(new Error("no reply")) : resolve(Number(first - t0) / 1e6));
  });
}
async function conn() {
  const ms = [];
  for (let i = 0; i < n; i++) ms.push(await one());
  ms.sort((a, b) => a - b);
  const q = (p) => Math.round(ms[Math.min(ms.length - 1, Math.floor(p * ms.length))] * 1000) / 1000;
  const mean = Math.round((ms.reduce((a, b) => a + b, 0) / ms.length) * 1000) / 1000;
  return { p50: q(0.5), p99: q(0.99), mean, n: ms.length };
}
function bulk() {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(65536, 120);
    const total = n * 1024 * 1024;
    let sent = 0, reply = "";
    const t0 = process.hrtime.bigint();
    const s = net.connect({ host, port, allowHalfOpen: true }, write);
    function write() {
      while (sent < total) {
        sent += chunk.length;
        if (!s.write(chunk)) return s.once("drain", write);
      }
      s.end();
    }
    s.on("data", (d) => (reply += d));
    s.on("error", reject);
    s.on("close", () => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const bytes = Number(reply.trim());
      resolve({ mbps: Math.round((bytes / 1048576 / (ms / 1000)) * 10) / 10, bytes, ms: Math.round(ms) });
    });
  });
}
(mode === "conn" ? conn() : bulk()).then((r) => console.log(JSON.stringify(r)), (e) => { console.error(e.message); process.exit(1); });
`;
