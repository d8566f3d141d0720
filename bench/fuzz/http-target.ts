// Fuzz target 2: the proxy's HTTP/1 and HTTP/2 parsing through live inbound sidecars on loopback.
// Mutated requests (valid HTTP/1 requests; valid h2c frame sequences, mutated frame by frame and byte
// by byte) go over raw sockets; after each batch the proxy must still answer a valid request on both
// protocols within 2 s, its memory must stay bounded, and its process must never die.
import http2 from "node:http2";
import net from "node:net";
import type { Finding, TargetResult } from "./report.js";
import type { Rand } from "./mutate.js";
import { inputRand, int, mutateBytes, pick } from "./mutate.js";
import { startProxyProcess } from "./proxy-process.js";
import type { ProxyProcess } from "./proxy-process.js";

const BATCH = 128;
const PARALLEL = 32;
/** How long one fuzzed connection may stay open: the proxy may rightly wait for more bytes. */
const INPUT_MS = 300;
const ANSWER_MS = 2000;
const MEMORY_GROWTH_LIMIT = 256 * 1024 * 1024;

const H1_SEEDS = [
  "GET / HTTP/1.1\r\nHost: app\r\nUser-Agent: fuzz\r\nAccept: */*\r\n\r\n",
  "GET /status/200?x=1&y=%2F HTTP/1.1\r\nHost: app:8080\r\nX-Request-Id: abc\r\nCookie: a=b; c=d\r\n\r\n",
  'POST /post HTTP/1.1\r\nHost: app\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{"a": "body"}',
  "POST /chunked HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n",
  "GET /a HTTP/1.1\r\nHost: app\r\n\r\nGET /b HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n",
  "HEAD /head HTTP/1.1\r\nHost: app\r\n\r\n",
  "OPTIONS * HTTP/1.1\r\nHost: app\r\n\r\n",
  "GET http://app/abs HTTP/1.1\r\nHost: app\r\n\r\n",
  "GET /upgrade HTTP/1.1\r\nHost: app\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  "GET / HTTP/1.0\r\n\r\n",
  "PUT /x HTTP/1.1\r\nHost: app\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nabcd",
];

const H1_TOKENS = [
  "\r\n",
  "\n",
  "\r",
  " ",
  "\t",
  ":",
  "\u0000",
  "Content-Length: 5\r\n",
  "Content-Length: -1\r\n",
  "Content-Length: 99999999999999999999\r\n",
  "Transfer-Encoding: chunked\r\n",
  "Transfer-Encoding: chunked, identity\r\n",
  "Transfer-Encoding:\u000bchunked\r\n",
  " folded\r\n",
  "Host: b\r\n",
  "X: \u00ff\r\n",
  "%00",
  "%2e%2e/",
  "/../",
  "ffffffffffffffff\r\n",
  "0\r\n\r\n",
  "HTTP/9.9",
  "HTTP/1.1",
  "GET ",
  "CONNECT app:443 ",
  "X".repeat(9000),
  "A: b\r\n".repeat(120),
  "Connection: close\r\n",
  "Upgrade: h2c\r\n",
  ":authority: x\r\n",
];

function h1Input(rand: Rand): Buffer {
  let s = pick(rand, H1_SEEDS);
  for (let n = 1 + int(rand, 4); n > 0; n--) {
    const at = int(rand, s.length + 1);
    const r = rand();
    if (r < 0.45) s = s.slice(0, at) + pick(rand, H1_TOKENS) + s.slice(at);
    else if (r < 0.7) s = s.slice(0, at) + s.slice(at + 1 + int(rand, 8));
    else if (r < 0.8) s = s.slice(0, at);
    else s = s.slice(0, at) + pick(rand, H1_SEEDS) + s.slice(at);
  }
  const b = Buffer.from(s, "latin1");
  return rand() < 0.3 ? mutateBytes(rand, b) : b;
}

function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream >>> 0, 5);
  return Buffer.concat([h, payload]);
}

/** HPACK literal fields without indexing, new names, no Huffman: enough to build any header list. */
function hpack(fields: Array<[string, string]>): Buffer {
  const parts: Buffer[] = [];
  const str = (s: string) => {
    const b = Buffer.from(s, "latin1");
    if (b.length >= 127) return Buffer.concat([Buffer.from([127, ...varint(b.length - 127)]), b]);
    return Buffer.concat([Buffer.from([b.length]), b]);
  };
  for (const [n, v] of fields) parts.push(Buffer.from([0]), str(n), str(v));
  return Buffer.concat(parts);
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 128) {
    out.push((n % 128) + 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

function h2Input(rand: Rand): Buffer {
  const headers = (stream: number, extra: Array<[string, string]> = [], end = true) =>
    frame(
      1,
      end ? 0x5 : 0x4,
      stream,
      hpack([[":method", "GET"], [":scheme", "http"], [":path", "/"], [":authority", "app"], ...extra]),
    );
  const frames: Buffer[] = [frame(4, 0, 0, Buffer.alloc(0))];
  for (let n = 1 + int(rand, 6); n > 0; n--) {
    const stream = pick(rand, [1, 3, 5, 2, 0, 0x7fffffff, 1 + 2 * int(rand, 1000)]);
    switch (int(rand, 9)) {
      case 0:
        frames.push(headers(stream));
        break;
      case 1:
        frames.push(headers(stream, [["x-fuzz", "a".repeat(int(rand, 70_000))]]));
        break;
      case 2:
        frames.push(headers(stream, [], false), frame(0, 1, stream, Buffer.alloc(int(rand, 20_000), 97)));
        break;
      case 3:
        frames.push(frame(3, 0, stream, Buffer.from([0, 0, 0, int(rand, 14)]))); // RST_STREAM
        break;
      case 4:
        frames.push(frame(6, 0, 0, Buffer.alloc(8))); // PING
        break;
      case 5:
        frames.push(frame(8, 0, stream, Buffer.from([0x7f, 0xff, 0xff, int(rand, 256)]))); // WINDOW_UPDATE
        break;
      case 6: // SETTINGS with random ids and values
        frames.push(
          frame(4, 0, 0, Buffer.from(Array.from({ length: 6 * (1 + int(rand, 4)) }, () => int(rand, 256)))),
        );
        break;
      case 7:
        frames.push(
          frame(
            int(rand, 12),
            int(rand, 256),
            stream,
            Buffer.from(Array.from({ length: int(rand, 40) }, () => int(rand, 256))),
          ),
        );
        break;
      default:
        frames.push(
          headers(stream, [
            [
              pick(rand, ["connection", "te", "Upper", ":bad", "x\u0000y", "content-length", ""]),
              pick(rand, ["keep-alive", "trailers", "x\r\ny", "10", ""]),
            ],
          ]),
        );
    }
  }
  // Mutate one frame's header or payload, then maybe the whole byte stream.
  const i = int(rand, frames.length);
  if (rand() < 0.6) frames[i] = mutateBytes(rand, frames[i]!);
  const body = Buffer.concat([PREFACE, ...frames]);
  return rand() < 0.2 ? mutateBytes(rand, body) : body;
}

/** Sends `bytes` (in 1–3 writes), reads until close or INPUT_MS, then destroys the socket. */
function send(port: number, bytes: Buffer, rand: Rand): Promise<void> {
  const cuts = [int(rand, bytes.length + 1), int(rand, bytes.length + 1)].sort((a, b) => a - b);
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve();
    };
    const timer = setTimeout(done, INPUT_MS);
    s.on("error", () => undefined);
    s.on("close", done);
    s.on("data", () => undefined);
    s.on("connect", () => {
      s.write(bytes.subarray(0, cuts[0]));
      s.write(bytes.subarray(cuts[0], cuts[1]));
      s.write(bytes.subarray(cuts[1]));
    });
  });
}

/** A valid request on each protocol; the status, or why there was none. */
async function healthy(ports: { h1: number; h2: number }): Promise<string | undefined> {
  const h1 = await new Promise<string>((resolve) => {
    let data = "";
    const s = net.connect({ host: "127.0.0.1", port: ports.h1 });
    const timer = setTimeout(() => (s.destroy(), resolve(`HTTP/1 no answer in ${ANSWER_MS} ms`)), ANSWER_MS);
    s.on("error", (e) => (clearTimeout(timer), resolve(`HTTP/1 ${e.message}`)));
    s.on("data", (d: Buffer) => {
      data += d.toString("latin1");
      if (data.includes("\r\n\r\n")) {
        clearTimeout(timer);
        s.destroy();
        resolve(data.startsWith("HTTP/1.1 200") ? "" : `HTTP/1 answered ${data.split("\r\n")[0]}`);
      }
    });
    s.write("GET /health HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n");
  });
  if (h1) return h1;
  return new Promise<string | undefined>((resolve) => {
    const session = http2.connect(`http://127.0.0.1:${ports.h2}`);
    const finish = (why: string | undefined) => {
      clearTimeout(timer);
      session.destroy();
      resolve(why);
    };
    const timer = setTimeout(() => finish(`HTTP/2 no answer in ${ANSWER_MS} ms`), ANSWER_MS);
    session.on("error", (e) => finish(`HTTP/2 ${e.message}`));
    const req = session.request({ ":path": "/health", ":authority": "app" }, { endStream: true });
    req.on("error", (e) => finish(`HTTP/2 stream ${e.message}`));
    req.on("response", (h) => finish(h[":status"] === 200 ? undefined : `HTTP/2 answered ${h[":status"]}`));
  });
}

export async function fuzzHttp(seed: number, seconds: number): Promise<TargetResult> {
  const findings: Finding[] = [];
  let host: ProxyProcess = await startProxyProcess();
  const deadline = Date.now() + seconds * 1000;
  let inputs = 0;
  let baseline = 0;
  let peak = 0;
  let batches = 0;
  const inputOf = (index: number) => {
    const rand = inputRand(seed, index);
    const h2 = rand() < 0.5;
    return { h2, bytes: h2 ? h2Input(rand) : h1Input(rand), rand };
  };
  while (Date.now() < deadline) {
    const first = inputs;
    for (let i = 0; i < BATCH; i += PARALLEL) {
      await Promise.all(
        Array.from({ length: PARALLEL }, (_, j) => {
          const { h2, bytes, rand } = inputOf(first + i + j);
          return send(h2 ? host.ports.h2 : host.ports.h1, bytes, rand);
        }),
      );
    }
    inputs += BATCH;
    batches++;
    const describe = (index: number) => {
      const { h2, bytes } = inputOf(index);
      return `${h2 ? "h2" : "h1"} ${bytes.toString("base64")}`;
    };
    const ended = host.ended();
    const unhealthy = ended ? undefined : await healthy(host.ports);
    if (ended || unhealthy) {
      findings.push({
        kind: ended ? "crash" : "hang",
        index: first,
        message: `after inputs ${first}..${inputs - 1}: ${ended ?? unhealthy}`,
        input: Array.from({ length: BATCH }, (_, k) => describe(first + k)).join("\n"),
      });
      await host.stop();
      host = await startProxyProcess();
      baseline = 0;
      continue;
    }
    const rss = host.rssBytes();
    if (batches === 2) baseline = rss; // after warm-up (pools, TLS contexts, JIT)
    peak = Math.max(peak, rss);
    if (baseline > 0 && rss - baseline > MEMORY_GROWTH_LIMIT) {
      findings.push({
        kind: "memory",
        index: first,
        message: `RSS ${rss >> 20} MiB, ${(rss - baseline) >> 20} MiB over the warm baseline`,
      });
      break;
    }
  }
  await host.stop();
  return {
    target: "http",
    inputs,
    findings,
    notes: [
      `${batches} batches of ${BATCH}, each followed by a valid HTTP/1 and HTTP/2 request`,
      `proxy RSS warm ${baseline >> 20} MiB, peak ${peak >> 20} MiB`,
    ],
  };
}
