// The soak's traffic (run inside a client pod's network namespace, so its requests go through the pod's
// sidecar): HTTP requests at a fixed rate, cycling over the given paths, on keep-alive connections. Prints
// one line per finished request: `START END PATH STATUS` (wall-clock ms; STATUS 0 when no answer came).
// Stops on SIGTERM after the requests in flight finish.
//   usage: node soak-client.js HOST PORT RATE PATH...
import { Agent, request } from "node:http";

const [host, portText, rateText, ...paths] = process.argv.slice(2);
const port = Number(portText);
const rate = Number(rateText);
if (!host || !(port > 0) || !(rate > 0) || paths.length === 0) {
  console.error("usage: node soak-client.js HOST PORT RATE PATH...");
  process.exit(2);
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 });
let inFlight = 0;
let stopping = false;

function once(path: string): void {
  const start = Date.now();
  inFlight++;
  let done = false;
  const finish = (status: number): void => {
    if (done) return;
    done = true;
    inFlight--;
    process.stdout.write(`${start} ${Date.now()} ${path} ${status}\n`);
    if (stopping && inFlight === 0) process.exit(0);
  };
  const req = request({ host, port, path, agent, timeout: 5000 }, (res) => {
    res.resume();
    res.on("end", () => finish(res.statusCode ?? 0));
    res.on("error", () => finish(0));
  });
  req.on("timeout", () => req.destroy(new Error("timeout")));
  req.on("error", () => finish(0));
  req.end();
}

let i = 0;
const timer = setInterval(() => once(paths[i++ % paths.length]!), 1000 / rate);
process.on("SIGTERM", () => {
  stopping = true;
  clearInterval(timer);
  if (inFlight === 0) process.exit(0);
});
