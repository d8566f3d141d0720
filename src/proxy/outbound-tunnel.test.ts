// The outbound path to endpoints with a tunnel port, against a small CONNECT server on loopback: many
// client connections ride one mTLS session, each as its own stream; refusals, a wrong server identity and
// a server that is gone are logged as the direct path logs them.
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { testRoot } from "../ca/test-support.js";
import {
  eventually,
  exchange,
  resetsCrossBothWays,
  freePort,
  startApp,
  startTestProxy,
  testConfig,
  testWorkload,
} from "../testing/proxy-harness.js";
import type { TestProxy } from "../testing/proxy-harness.js";
import { startTunnelServer } from "../testing/tunnel-server.js";

const mesh = await testRoot();
const server = await testWorkload(mesh, "foo", "app");
const client = await testWorkload(mesh, "bar", "curl");
const app = await startApp("reply-on-end");
after(() => app.close());

const VIP = "10.96.0.10";
const CLUSTER = "outbound|9000||app.foo.svc.cluster.local";

function tunnelConfig(
  tunnelPort: number,
  o: { san?: string[]; outlier?: boolean; secondTunnel?: number } = {},
) {
  const endpoint = (port: number) => ({
    address: "127.0.0.1",
    port: app.port,
    tls: { mode: "ISTIO_MUTUAL", subjectAltNames: o.san ?? [server.spiffeId] },
    tunnel: { port },
  });
  return testConfig({
    namespace: "bar",
    listeners: [{ name: `${VIP}_9000`, address: VIP, port: 9000, protocol: "tcp", cluster: CLUSTER }],
    clusters: [
      {
        name: CLUSTER,
        type: "EDS",
        connectTimeoutMs: 2000,
        endpoints: [endpoint(tunnelPort), ...(o.secondTunnel ? [endpoint(o.secondTunnel)] : [])],
        ...(o.outlier
          ? { outlierDetection: { consecutive5xx: 1, maxEjectionPercent: 50, baseEjectionMs: 60_000 } }
          : {}),
      },
    ],
  });
}

async function clientProxy(config: ReturnType<typeof tunnelConfig>): Promise<TestProxy> {
  const tp = await startTestProxy(config, client.identity);
  tp.dst.current = { address: VIP, port: 9000, family: "IPv4" };
  after(() => tp.proxy.close());
  return tp;
}

test("50 client connections ride ONE mTLS session, each its own stream to the endpoint", async () => {
  const ts = await startTunnelServer(server.pem);
  after(() => ts.close());
  const cp = await clientProxy(tunnelConfig(ts.port));
  const before = app.connections;
  const results = await Promise.all(
    Array.from({ length: 50 }, (_x, i) => exchange(cp.proxy.ports.outbound, `hi ${i}`)),
  );
  results.forEach((r, i) => assert.deepEqual(r, { data: `got hi ${i}`, ended: "end" }));
  assert.equal(ts.handshakes, 1, "one TLS handshake");
  assert.equal(ts.sessions, 1, "one HTTP/2 session");
  assert.deepEqual(ts.peers, [client.spiffeId]);
  assert.deepEqual(ts.authorities, Array(50).fill(`127.0.0.1:${app.port}`));
  assert.equal(app.connections, before + 50);
  await eventually("50 log lines", () => cp.lines.length === 50);
  for (const line of cp.lines) {
    const fields = line.split(" ");
    assert.equal(fields[5], "-", `no flag: ${line}`);
    assert.equal(fields[17], `"127.0.0.1:${app.port}"`, "the upstream host is the endpoint");
    assert.equal(fields[18], CLUSTER);
  }
  // The upstream local address is the one session's: every connection left through it.
  assert.equal(new Set(cp.lines.map((l) => l.split(" ")[19])).size, 1);
  const received = cp.lines.map((l) => Number(l.split(" ")[9])).reduce((a, b) => a + b, 0);
  const sent = cp.lines.map((l) => Number(l.split(" ")[10])).reduce((a, b) => a + b, 0);
  const asked = results.map((_r, i) => `hi ${i}`.length).reduce((a, b) => a + b, 0);
  assert.equal(received, asked, "bytes received from the clients");
  assert.equal(sent, asked + 4 * 50, "bytes sent to the clients");
});

test("a 403 from the tunnel server closes the client's connection; the log says UF and why", async () => {
  const ts = await startTunnelServer(server.pem);
  after(() => ts.close());
  ts.refuseWith = 403;
  const cp = await clientProxy(tunnelConfig(ts.port));
  const before = app.connections;
  const res = await exchange(cp.proxy.ports.outbound, "hi");
  assert.equal(res.data, "");
  await eventually("log", () => cp.lines.length === 1);
  assert.match(cp.lines[0] ?? "", / UF - - "tunnel refused: 403" /);
  assert.equal(app.connections, before, "nothing reached the app");
});

for (const [status, ejected] of [
  [403, false],
  [503, true],
] as const) {
  test(`a refusal is the endpoint's answer, counted as its status: ${status} ${ejected ? "ejects" : "does not eject"} it`, async () => {
    const refusing = await startTunnelServer(server.pem);
    after(() => refusing.close());
    refusing.refuseWith = status;
    const healthy = await startTunnelServer(server.pem);
    after(() => healthy.close());
    // Two endpoints (the same app behind two tunnels): round robin starts with the refusing one.
    const cp = await clientProxy(tunnelConfig(refusing.port, { outlier: true, secondTunnel: healthy.port }));
    for (let i = 0; i < 4; i++) await exchange(cp.proxy.ports.outbound, "x");
    await eventually("four log lines", () => cp.lines.length === 4);
    // Ejected after its first refusal, the refusing endpoint gets one stream; kept, it gets every other.
    assert.equal(refusing.authorities.length, ejected ? 1 : 2);
    assert.equal(healthy.authorities.length, ejected ? 3 : 2);
  });
}

test("ISTIO_MUTUAL through the tunnel refuses a server whose SPIFFE id is not the expected one", async () => {
  const ts = await startTunnelServer(server.pem);
  after(() => ts.close());
  const cp = await clientProxy(tunnelConfig(ts.port, { san: ["spiffe://cluster.local/ns/foo/sa/other"] }));
  assert.equal((await exchange(cp.proxy.ports.outbound, "hi")).data, "");
  await eventually("log", () => cp.lines.length === 1);
  assert.match(cp.lines[0] ?? "", / UF - - "TLS_error:TLS_PEER_IDENTITY:/);
  assert.equal(ts.authorities.length, 0, "no stream was opened");
});

test("tunnel server down: UF; once it is back the next connection goes through", async () => {
  const port = await freePort();
  const cp = await clientProxy(tunnelConfig(port));
  assert.equal((await exchange(cp.proxy.ports.outbound, "x")).data, "");
  await eventually("log", () => cp.lines.length === 1);
  assert.match(cp.lines[0] ?? "", / UF - - "TLS_error:ECONNREFUSED:/);
  const ts = await startTunnelServer(server.pem, port);
  after(() => ts.close());
  assert.deepEqual(await exchange(cp.proxy.ports.outbound, "back"), { data: "got back", ended: "end" });
  assert.equal(ts.sessions, 1);
});

test("a reset on either side of the tunnel takes the other side with it", async () => {
  const echo = await startApp("echo");
  after(() => echo.close());
  const ts = await startTunnelServer(server.pem);
  after(() => ts.close());
  const config = tunnelConfig(ts.port);
  const endpoint = config.clusters.find((c) => c.name === CLUSTER)?.endpoints[0];
  if (endpoint) endpoint.port = echo.port;
  const cp = await clientProxy(config);
  // A client reset resets the stream and the app's socket goes away; an app reset ends the client's.
  await resetsCrossBothWays(cp.proxy.ports.outbound, echo);
  await eventually("two log lines", () => cp.lines.length === 2);
  assert.equal(ts.sessions, 1, "the session outlives its streams");
});
