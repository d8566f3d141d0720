// HTTP/2 robustness on the wire, through a live sidecar pair on loopback (the client sidecar's http2
// outbound listener, and the server sidecar's inbound port directly, h2c with prior knowledge): header
// lists over 100 fields or 60 KiB get 431 (the session goes on), and floods (PING or SETTINGS frames
// sent without reading the acks, streams reset as soon as they are opened: CVE-2023-44487) end the
// abusive session while the proxy keeps serving everyone else.
import assert from "node:assert/strict";
import { once } from "node:events";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import net from "node:net";
import { after, test } from "node:test";
import { testRoot } from "../../ca/test-support.js";
import { inboundChain, startTestProxy, testConfig, testWorkload } from "../../testing/proxy-harness.js";
import type { ProxyConfig } from "../proxy-config.js";

let appStreams = 0;
const app = http2.createServer({ maxHeaderListPairs: 1000, settings: { maxHeaderListSize: 256 * 1024 } });
app.on("stream", (stream) => {
  appStreams++;
  stream.on("error", () => undefined);
  stream.respond({ ":status": 200 });
  stream.end("ok");
});
app.listen(0, "127.0.0.1");
await once(app, "listening");
const appPort = (app.address() as AddressInfo).port;
after(() => app.close());

const mesh = await testRoot();
const greeter = await testWorkload(mesh, "default", "greeter");
const caller = await testWorkload(mesh, "default", "caller");

const server = await startTestProxy(
  testConfig({ namespace: "default", chains: [inboundChain(appPort, "PERMISSIVE", "http2")] }),
  greeter.identity,
);
server.dst.current = { address: "127.0.0.1", port: appPort, family: "IPv4" };
after(() => server.proxy.close());

const CLUSTER = "outbound|9090||greeter.default.svc.cluster.local";
const clientConfig: ProxyConfig = testConfig({
  namespace: "default",
  listeners: [
    {
      name: "0.0.0.0_9090",
      address: "0.0.0.0",
      port: 9090,
      protocol: "http2",
      virtualHosts: [
        { name: "greeter", domains: ["*"], routes: [{ name: "default", clusters: [{ cluster: CLUSTER }] }] },
      ],
    },
  ],
  clusters: [
    {
      name: CLUSTER,
      type: "EDS",
      endpoints: [
        {
          address: "127.0.0.1",
          port: server.proxy.ports.inbound,
          tls: { mode: "ISTIO_MUTUAL", subjectAltNames: [greeter.spiffeId] },
        },
      ],
    },
  ],
});
const client = await startTestProxy(clientConfig, caller.identity);
client.dst.current = { address: "10.96.0.40", port: 9090, family: "IPv4" };
after(() => client.proxy.close());

const SIDES = [
  ["outbound", client.proxy.ports.outbound],
  ["inbound", server.proxy.ports.inbound],
] as const;

/** One request on `session`: its status (or the stream error's code) and body. */
function get(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders = {}): Promise<string> {
  return new Promise((resolve) => {
    const s = session.request({ ":path": "/", ":authority": "greeter", ...headers }, { endStream: true });
    let status = "";
    let body = "";
    s.on("response", (h) => (status = String(h[":status"])));
    s.on("data", (d: Buffer) => (body += d.toString()));
    s.on("error", (e: NodeJS.ErrnoException) => (status ||= e.code ?? "error"));
    s.on("close", () => resolve(`${status} ${body}`.trim()));
  });
}

async function connect(port: number): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(`http://127.0.0.1:${port}`, { maxHeaderListPairs: 1000 });
  session.on("error", () => undefined);
  await once(session, "connect");
  return session;
}

function frame(type: number, flags: number, stream: number, payload = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream, 5);
  return Buffer.concat([h, payload]);
}

/** Writes `frames` copies of one control frame after the preface without reading anything back;
 *  resolves with how many were written before the proxy closed the connection (or all of them). */
async function flood(
  port: number,
  one: Buffer,
  frames: number,
): Promise<{ written: number; closed: boolean }> {
  const s = net.connect({ host: "127.0.0.1", port });
  s.on("error", () => undefined);
  await once(s, "connect");
  s.pause();
  s.write(Buffer.concat([Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), frame(4, 0, 0)]));
  const batch = Buffer.concat(Array.from({ length: 1000 }, () => one));
  let written = 0;
  const closed = new Promise<boolean>((r) => s.once("close", () => r(true)));
  while (written < frames && !s.destroyed) {
    written += 1000;
    if (!s.write(batch)) await Promise.race([new Promise((r) => s.once("drain", r)), closed]);
  }
  // Now read: the proxy's answer (acks, GOAWAY) drains, and the connection ends if it was told to.
  s.resume();
  const ended = await Promise.race([closed, new Promise<boolean>((r) => setTimeout(() => r(false), 5000))]);
  s.destroy();
  return { written, closed: ended };
}

for (const [side, port] of SIDES) {
  test(`${side}: more than 100 header fields → 431, the session goes on`, async () => {
    const session = await connect(port);
    const before = appStreams;
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`x-field-${i}`, "v"]));
    assert.equal(await get(session, many), "431");
    assert.equal(appStreams, before, "the application saw nothing");
    assert.equal(await get(session), "200 ok");
    session.close();
  });

  test(`${side}: a header list over 60 KiB → 431 (or the stream refused), never the application`, async () => {
    const session = await connect(port);
    const before = appStreams;
    const answer = await get(session, { "x-big": "a".repeat(61 * 1024) });
    assert.notEqual(answer.slice(0, 3), "200", answer);
    assert.equal(appStreams, before);
    const fresh = await connect(port);
    assert.equal(await get(fresh), "200 ok");
    session.destroy();
    fresh.close();
  });

  test(`${side}: a PING flood ends that session, others are served`, async () => {
    const r = await flood(port, frame(6, 0, 0, Buffer.alloc(8)), 400_000);
    assert.ok(r.closed, "the flooding connection is closed");
    const fresh = await connect(port);
    assert.equal(await get(fresh), "200 ok");
    fresh.close();
  });

  test(`${side}: a SETTINGS flood ends that session, others are served`, async () => {
    const r = await flood(port, frame(4, 0, 0), 400_000);
    assert.ok(r.closed, "the flooding connection is closed");
    const fresh = await connect(port);
    assert.equal(await get(fresh), "200 ok");
    fresh.close();
  });

  test(`${side}: streams reset as soon as opened (rapid reset) are bounded`, async () => {
    const session = await connect(port);
    let goaway = false;
    session.on("goaway", () => (goaway = true));
    const closed = new Promise((r) => session.once("close", r));
    const before = appStreams;
    const N = 5000;
    for (let i = 0; i < N && !session.destroyed && !session.closed; i++) {
      const s = session.request({ ":path": `/r${i}`, ":authority": "greeter" }, { endStream: true });
      s.on("error", () => undefined);
      s.close(http2.constants.NGHTTP2_CANCEL);
      if (i % 100 === 99) await new Promise((r) => setImmediate(r));
    }
    // A bound, not a timing check: on a loaded machine the GOAWAY can take a while to arrive.
    await Promise.race([closed, new Promise((r) => setTimeout(r, 10_000))]);
    session.destroy();
    assert.ok(goaway, "the proxy ends the session (GOAWAY)");
    assert.ok(appStreams - before < N, `the application saw ${appStreams - before} of ${N} streams`);
    const fresh = await connect(port);
    assert.equal(await get(fresh), "200 ok", "the proxy still serves");
    fresh.close();
  });
}
