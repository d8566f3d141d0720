// The outbound path and the proxy pair on loopback: ISTIO_MUTUAL to the expected SPIFFE id only,
// passthrough and blackhole, half-close, resets, connect and idle timeouts; tcp.maxConnections (UO) and
// connect failures ejecting an endpoint.
import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import { after, test } from "node:test";
import { testRoot } from "../ca/test-support.js";
import {
  eventually,
  exchange,
  resetsCrossBothWays,
  inboundChain,
  startApp,
  startTestProxy,
  testConfig,
  testWorkload,
} from "../testing/proxy-harness.js";
import type { TestProxy } from "../testing/proxy-harness.js";

const mesh = await testRoot();
const server = await testWorkload(mesh, "foo", "app");
const client = await testWorkload(mesh, "bar", "curl");
const app = await startApp("reply-on-end");
after(() => app.close());
const serverProxy = await startTestProxy(
  testConfig({ chains: [inboundChain(app.port, "STRICT")] }),
  server.identity,
);
serverProxy.dst.current = { address: "127.0.0.1", port: app.port, family: "IPv4" };
after(() => serverProxy.proxy.close());

const VIP = "10.96.0.10";
const CLUSTER = "outbound|9000||app.foo.svc.cluster.local";

function clientConfig(
  o: { san?: string[]; port?: number; timeoutMs?: number; defaultCluster?: "BlackHoleCluster" } = {},
) {
  return testConfig({
    namespace: "bar",
    listeners: [{ name: `${VIP}_9000`, address: VIP, port: 9000, protocol: "tcp", cluster: CLUSTER }],
    clusters: [
      {
        name: CLUSTER,
        type: "EDS",
        connectTimeoutMs: o.timeoutMs ?? 2000,
        endpoints: [
          {
            address: "127.0.0.1",
            port: o.port ?? serverProxy.proxy.ports.inbound,
            tls: { mode: "ISTIO_MUTUAL", subjectAltNames: o.san ?? [server.spiffeId] },
          },
        ],
      },
    ],
    ...(o.defaultCluster ? { defaultCluster: o.defaultCluster } : {}),
  });
}

async function clientProxy(config = clientConfig(), extra = {}): Promise<TestProxy> {
  const tp = await startTestProxy(config, client.identity, extra);
  tp.dst.current = { address: VIP, port: 9000, family: "IPv4" };
  after(() => tp.proxy.close());
  return tp;
}

test("through the pair with mTLS: half-close carries the answer back, the server sees the client's id", async () => {
  const cp = await clientProxy();
  const res = await exchange(cp.proxy.ports.outbound, "hi\n");
  assert.deepEqual(res, { data: "got hi\n", ended: "end" });
  assert.equal(
    serverProxy.proxy.stats.peers()[
      `inbound|${app.port}||.source_principal.spiffe://cluster.local/ns/bar/sa/curl`
    ],
    1,
  );
  await eventually("client log", () => cp.lines.length === 1);
  const fields = (cp.lines[0] ?? "").split(" ");
  assert.deepEqual(fields.slice(1, 9), ['"-', "-", '-"', "0", "-", "-", "-", '"-"']);
  assert.equal(fields[9], "3", "bytes received from the client");
  assert.equal(fields[10], "7", "bytes sent to the client");
  assert.equal(fields[17], `"127.0.0.1:${serverProxy.proxy.ports.inbound}"`);
  assert.equal(fields[18], CLUSTER);
  assert.equal(fields[20], `${VIP}:9000`);
});

test("ISTIO_MUTUAL refuses a server whose SPIFFE id is not the expected one; the app sees nothing", async () => {
  const cp = await clientProxy(clientConfig({ san: ["spiffe://cluster.local/ns/foo/sa/other"] }));
  const before = { app: app.connections, server: serverProxy.lines.length };
  const res = await exchange(cp.proxy.ports.outbound, "hi\n");
  assert.equal(res.data, "");
  await eventually("client log", () => cp.lines.length === 1);
  assert.match(
    cp.lines[0] ?? "",
    / UF - - "TLS_error:TLS_PEER_IDENTITY:server identity spiffe:\/\/cluster.local\/ns\/foo\/sa\/app is not one of/,
  );
  // Server side: the handshake did not complete into a proxied connection.
  await eventually("server log", () => serverProxy.lines.length === before.server + 1);
  assert.match(serverProxy.lines.at(-1) ?? "", /"TLS_error:/);
  assert.equal(app.connections, before.app);
});

test("no listener: PassthroughCluster dials the original destination; BlackHoleCluster closes", async () => {
  const cp = await clientProxy();
  cp.dst.current = { address: "127.0.0.1", port: app.port, family: "IPv4" };
  assert.equal((await exchange(cp.proxy.ports.outbound, "direct")).data, "got direct");
  const bh = await clientProxy(clientConfig({ defaultCluster: "BlackHoleCluster" }));
  bh.dst.current = { address: "127.0.0.1", port: app.port, family: "IPv4" };
  assert.equal((await exchange(bh.proxy.ports.outbound, "x")).data, "");
  await eventually("log", () => bh.lines.length === 1);
  assert.match(bh.lines[0] ?? "", /"- - -" 0 UH .* BlackHoleCluster /);
});

test("a reset on either side destroys the other; nothing is left open", async () => {
  const echo = await startApp("echo");
  after(() => echo.close());
  const cp = await clientProxy();
  cp.dst.current = { address: "127.0.0.1", port: echo.port, family: "IPv4" };
  await resetsCrossBothWays(cp.proxy.ports.outbound, echo);
  await eventually("two log lines", () => cp.lines.length === 2);
});

test("connect timeout (TLS never answered) and connection refused are UF", async () => {
  const held = new Set<net.Socket>();
  const silent = net.createServer((s) => {
    held.add(s);
    s.on("error", () => undefined);
  });
  silent.listen(0, "127.0.0.1");
  await once(silent, "listening");
  after(() => silent.close());
  const port = (silent.address() as net.AddressInfo).port;
  const cp = await clientProxy(clientConfig({ port, timeoutMs: 150 }));
  assert.equal((await exchange(cp.proxy.ports.outbound, "x")).data, "");
  await eventually("log", () => cp.lines.length === 1);
  assert.match(cp.lines[0] ?? "", / UF - - "connection timeout" /);
  silent.close();
  for (const s of held) s.destroy();
  await once(silent, "close");
  const refused = await clientProxy(clientConfig({ port }));
  assert.equal((await exchange(refused.proxy.ports.outbound, "x")).data, "");
  await eventually("log", () => refused.lines.length === 1);
  assert.match(refused.lines[0] ?? "", / UF - - "TLS_error:ECONNREFUSED:/);
});

test("an idle connection is closed after the idle timeout", async () => {
  const echo = await startApp("echo");
  after(() => echo.close());
  const cp = await clientProxy(clientConfig(), { idleTimeoutMs: 150 });
  cp.dst.current = { address: "127.0.0.1", port: echo.port, family: "IPv4" };
  const c = net.connect(cp.proxy.ports.outbound, "127.0.0.1");
  c.on("error", () => undefined);
  c.write("ping");
  await once(c, "data");
  const t0 = Date.now();
  await once(c, "close");
  assert.ok(Date.now() - t0 >= 100);
  await eventually("app socket closed", () => echo.sockets.size === 0);
});

test("resumed TLS sessions keep the peer's identity, and the server identity is checked again", async () => {
  const cp = await clientProxy();
  const key = `inbound|${app.port}||.source_principal.spiffe://cluster.local/ns/bar/sa/curl`;
  const before = serverProxy.proxy.stats.peers()[key] ?? 0;
  for (let i = 0; i < 3; i++)
    assert.equal((await exchange(cp.proxy.ports.outbound, "hi\n")).data, "got hi\n");
  assert.equal(
    serverProxy.proxy.stats.peers()[key],
    before + 3,
    "every connection, resumed or not, has the principal",
  );
  // Same upstream, now expecting another identity: a cached session must not skip the check.
  cp.proxy.updateConfig(clientConfig({ san: ["spiffe://cluster.local/ns/foo/sa/other"] }));
  assert.equal((await exchange(cp.proxy.ports.outbound, "hi\n")).data, "");
  await eventually("log", () => cp.lines.length === 4);
  assert.match(cp.lines[3] ?? "", /TLS_PEER_IDENTITY/);
});

function plainCluster(endpoints: Array<{ address: string; port: number }>, extra: Record<string, unknown>) {
  return testConfig({
    namespace: "bar",
    listeners: [{ name: `${VIP}_9000`, address: VIP, port: 9000, protocol: "tcp", cluster: CLUSTER }],
    clusters: [{ name: CLUSTER, type: "EDS", connectTimeoutMs: 2000, endpoints, ...extra }],
  });
}

test("tcp.maxConnections 1: a second connection at once is refused with UO; after a close one fits", async () => {
  const echo = await startApp("echo");
  after(() => echo.close());
  const cp = await clientProxy(
    plainCluster([{ address: "127.0.0.1", port: echo.port }], { connectionPool: { maxConnections: 1 } }),
  );
  const first = net.connect(cp.proxy.ports.outbound, "127.0.0.1");
  first.on("error", () => undefined);
  first.write("one");
  await once(first, "data");
  const second = await exchange(cp.proxy.ports.outbound, "two");
  assert.equal(second.data, "");
  await eventually("refusal logged", () => cp.lines.length === 1);
  assert.match(cp.lines[0] ?? "", /^\[[^\]]+\] "- - -" 0 UO /);
  assert.ok((cp.lines[0] ?? "").includes(` ${CLUSTER} `));
  assert.equal(echo.connections, 1, "the refused connection never reached the app");
  first.end();
  await once(first, "close");
  await eventually("first connection logged", () => cp.lines.length === 2);
  const third = await exchange(cp.proxy.ports.outbound, "three");
  assert.equal(third.data, "three");
  assert.equal(echo.connections, 2);
});

test("connect failures eject the endpoint: later connections go to the healthy one", async () => {
  const echo = await startApp("echo");
  after(() => echo.close());
  const gone = net.createServer();
  gone.listen(0, "127.0.0.1");
  await once(gone, "listening");
  const deadPort = (gone.address() as net.AddressInfo).port;
  gone.close();
  await once(gone, "close");
  const cp = await clientProxy(
    plainCluster(
      [
        { address: "127.0.0.1", port: deadPort },
        { address: "127.0.0.1", port: echo.port },
      ],
      { outlierDetection: { consecutive5xx: 1, maxEjectionPercent: 100, baseEjectionMs: 60_000 } },
    ),
  );
  // Round robin starts with the dead endpoint: refused (UF), and ejected.
  assert.equal((await exchange(cp.proxy.ports.outbound, "a")).data, "");
  for (const word of ["b", "c", "d"])
    assert.equal((await exchange(cp.proxy.ports.outbound, word)).data, word);
  await eventually("four log lines", () => cp.lines.length === 4);
  assert.match(cp.lines[0] ?? "", / UF /);
  for (const line of cp.lines.slice(1)) assert.ok(line.includes(`"127.0.0.1:${echo.port}"`), line);
});
