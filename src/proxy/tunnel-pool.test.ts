// The tunnel pool against a small CONNECT server on loopback: streams share one mTLS session and carry
// bytes both ways with half-close; a refusal, a wrong server identity, a server that is gone and a rotated
// client certificate each end as the spec says.
import assert from "node:assert/strict";
import { once } from "node:events";
import type { ClientHttp2Stream } from "node:http2";
import { after, test } from "node:test";
import type tls from "node:tls";
import { testRoot } from "../ca/test-support.js";
import { eventually, freePort, startApp, testWorkload } from "../testing/proxy-harness.js";
import { startTunnelServer } from "../testing/tunnel-server.js";
import { SessionCache } from "./tls-sessions.js";
import type { TunnelFailure, TunnelLocal } from "./tunnel-pool.js";
import { TunnelPool, tunnelAuthority } from "./tunnel-pool.js";
import { tlsPlan } from "./upstream-tls.js";

const mesh = await testRoot();
const server = await testWorkload(mesh, "foo", "app");
const client = await testWorkload(mesh, "bar", "curl");
const app = await startApp("reply-on-end");
after(() => app.close());
const CLUSTER = "outbound|9000||app.foo.svc.cluster.local";
const plan = (san = [server.spiffeId]) =>
  tlsPlan({ mode: "ISTIO_MUTUAL", subjectAltNames: san }, CLUSTER, "cluster.local");
const target = { address: "127.0.0.1", port: app.port };

interface Opened {
  failure: TunnelFailure | undefined;
  stream: ClientHttp2Stream | undefined;
  local: TunnelLocal | undefined;
}

function openOn(
  pool: TunnelPool,
  tunnelPort: number,
  o: { san?: string[]; context?: tls.SecureContext } = {},
) {
  return new Promise<Opened>((resolve) =>
    pool.open(
      target,
      tunnelPort,
      plan(o.san),
      o.context ?? client.identity.getSecureContext(),
      2000,
      (f, s, l) => resolve({ failure: f, stream: s, local: l }),
    ),
  );
}

/** Writes `payload`, half-closes, and reads the stream to its end. */
async function talk(stream: ClientHttp2Stream, payload: string): Promise<string> {
  const chunks: Buffer[] = [];
  stream.on("data", (d: Buffer) => chunks.push(d));
  stream.end(payload);
  await once(stream, "end");
  return Buffer.concat(chunks).toString();
}

function newPool(): TunnelPool {
  const pool = new TunnelPool(new SessionCache());
  after(() => pool.close());
  return pool;
}

test("streams share one mTLS session; each asks for the endpoint's address; half-close carries the answer", async () => {
  const ts = await startTunnelServer(server.pem);
  after(() => ts.close());
  const pool = newPool();
  const opened = await Promise.all(Array.from({ length: 5 }, () => openOn(pool, ts.port)));
  for (const o of opened) assert.equal(o.failure, undefined);
  const answers = await Promise.all(opened.map((o, i) => talk(o.stream!, `hi ${i}`)));
  assert.deepEqual(
    answers,
    opened.map((_o, i) => `got hi ${i}`),
  );
  assert.equal(ts.handshakes, 1);
  assert.equal(ts.sessions, 1);
  assert.deepEqual(ts.authorities, Array(5).fill(`127.0.0.1:${app.port}`));
  assert.deepEqual(ts.peers, [client.spiffeId]);
  assert.equal(opened[0]?.local?.localAddress, "127.0.0.1");
  assert.ok((opened[0]?.local?.localPort ?? 0) > 0);
});

test("the authority of an IPv6 endpoint is bracketed", () => {
  assert.equal(tunnelAuthority("fd00::1", 80), "[fd00::1]:80");
  assert.equal(tunnelAuthority("10.0.0.1", 80), "10.0.0.1:80");
});

test("a refusal is a failure carrying the server's status; the session stays for the next stream", async () => {
  const ts = await startTunnelServer(server.pem);
  after(() => ts.close());
  const pool = newPool();
  ts.refuseWith = 403;
  const refused = await openOn(pool, ts.port);
  assert.deepEqual(refused.failure, { flag: "UF", reason: "tunnel refused: 403", status: 403 });
  assert.equal(refused.stream, undefined);
  ts.refuseWith = undefined;
  const ok = await openOn(pool, ts.port);
  assert.equal(ok.failure, undefined);
  assert.equal(await talk(ok.stream!, "x"), "got x");
  assert.equal(ts.sessions, 1);
});

test("a server whose SPIFFE id is not the expected one: refused, no stream reaches it", async () => {
  const ts = await startTunnelServer(server.pem);
  after(() => ts.close());
  const pool = newPool();
  const res = await openOn(pool, ts.port, { san: ["spiffe://cluster.local/ns/foo/sa/other"] });
  assert.equal(res.failure?.flag, "UF");
  assert.match(res.failure?.reason ?? "", /^TLS_error:TLS_PEER_IDENTITY:/);
  assert.equal(ts.authorities.length, 0);
  assert.equal(pool.size, 0, "the failed session is not kept");
});

test("a server that is gone is UF (and the pool forgets it); once back, the next stream works", async () => {
  const port = await freePort();
  const pool = newPool();
  const down = await openOn(pool, port);
  assert.equal(down.failure?.flag, "UF");
  assert.match(down.failure?.reason ?? "", /ECONNREFUSED/);
  assert.equal(pool.size, 0);
  const ts = await startTunnelServer(server.pem, port);
  after(() => ts.close());
  const up = await openOn(pool, port);
  assert.equal(up.failure, undefined);
  assert.equal(await talk(up.stream!, "back"), "got back");
  // The server goes away with the session: the pool drops it, and a new one is made afterwards.
  await ts.close();
  await eventually("session dropped", () => pool.size === 0);
  const ts2 = await startTunnelServer(server.pem, port);
  after(() => ts2.close());
  const again = await openOn(pool, port);
  assert.equal(again.failure, undefined);
  assert.equal(await talk(again.stream!, "again"), "got again");
});

test("a rotated client certificate starts a new session; the old one closes once its stream ends", async () => {
  const ts = await startTunnelServer(server.pem);
  after(() => ts.close());
  const pool = newPool();
  const echo = await startApp("echo");
  after(() => echo.close());
  const first = await new Promise<Opened>((resolve) =>
    pool.open(
      { address: "127.0.0.1", port: echo.port },
      ts.port,
      plan(),
      client.identity.getSecureContext(),
      2000,
      (f, s, l) => resolve({ failure: f, stream: s, local: l }),
    ),
  );
  assert.equal(first.failure, undefined);
  const rotated = await testWorkload(mesh, "bar", "curl");
  const second = await openOn(pool, ts.port, { context: rotated.identity.getSecureContext() });
  assert.equal(second.failure, undefined);
  assert.equal(ts.sessions, 2);
  assert.deepEqual(ts.peers, [client.spiffeId, rotated.spiffeId]);
  assert.equal(pool.size, 1);
  // The first stream still works on the retired session, which closes after it.
  const s1 = first.stream!;
  s1.write("still here");
  const [echoed] = (await once(s1, "data")) as [Buffer];
  assert.equal(echoed.toString(), "still here");
  assert.equal(await talk(second.stream!, "new"), "got new");
  s1.end();
  await once(s1, "close");
  await eventually("old session closed", () => ts.openSessions === 1);
});

test("an idle session is closed after the idle time; the next stream opens a new one", async () => {
  const ts = await startTunnelServer(server.pem);
  after(() => ts.close());
  const pool = new TunnelPool(new SessionCache(), 50);
  after(() => pool.close());
  const o = await openOn(pool, ts.port);
  assert.equal(await talk(o.stream!, "a"), "got a");
  await eventually("idle session closed", () => pool.size === 0);
  const o2 = await openOn(pool, ts.port);
  assert.equal(await talk(o2.stream!, "b"), "got b");
  assert.equal(ts.sessions, 2);
});

test("the connect timeout covers the stream's answer; abandoning an attempt fails it", async () => {
  const ts = await startTunnelServer(server.pem);
  after(() => ts.close());
  const pool = newPool();
  ts.silent = true;
  const timedOut = await new Promise<TunnelFailure | undefined>((resolve) =>
    pool.open(target, ts.port, plan(), client.identity.getSecureContext(), 150, (f) => resolve(f)),
  );
  assert.deepEqual(timedOut, { flag: "UF", reason: "connection timeout" });
  await eventually("the unanswered stream was reset", () => ts.openStreams === 0);
  const abandoned = await new Promise<TunnelFailure | undefined>((resolve) => {
    const abandon = pool.open(target, ts.port, plan(), client.identity.getSecureContext(), 2000, (f) =>
      resolve(f),
    );
    abandon();
  });
  assert.deepEqual(abandoned, { flag: "UF", reason: "connection closed during setup" });
});
