// The proxy-wide connection limit on the wire: with a limit of 20, the 21st connection is closed at once
// without reaching the application and counted, the first 20 keep working, and closing one admits a new one.
import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import type { Socket } from "node:net";
import { after, test } from "node:test";
import { testRoot } from "../ca/test-support.js";
import { eventually, startApp, startTestProxy, testConfig, testWorkload } from "../testing/proxy-harness.js";

const mesh = await testRoot();
const workload = await testWorkload(mesh, "foo", "app");
const app = await startApp("echo");
after(() => app.close());

/** Opens a plaintext connection through the outbound listener (passthrough to the app). */
async function open(port: number): Promise<Socket> {
  const s = net.connect({ host: "127.0.0.1", port });
  s.on("error", () => undefined);
  await once(s, "connect");
  return s;
}

/** Writes a line and waits for its echo; false when the connection closed instead. */
function echoes(s: Socket, text: string): Promise<boolean> {
  return new Promise((resolve) => {
    let got = "";
    const onData = (d: Buffer) => {
      got += d.toString();
      if (got === text) done(true);
    };
    const onClose = () => done(false);
    const done = (ok: boolean) => {
      s.removeListener("data", onData);
      s.removeListener("close", onClose);
      resolve(ok);
    };
    s.on("data", onData);
    s.once("close", onClose);
    if (s.destroyed) return done(false);
    s.write(text);
  });
}

test("over the limit a connection is refused at once; the admitted ones keep working", async () => {
  const warnings: string[] = [];
  const tp = await startTestProxy(testConfig({}), workload.identity, {
    maxConnections: 20,
    warn: (l) => warnings.push(l),
  });
  after(() => tp.proxy.close());
  tp.dst.current = { address: "127.0.0.1", port: app.port, family: "IPv4" };
  const port = tp.proxy.ports.outbound;

  const admitted: Socket[] = [];
  for (let i = 0; i < 20; i++) {
    const s = await open(port);
    admitted.push(s);
    assert.equal(await echoes(s, `hello ${i}`), true, `connection ${i} works`);
  }
  await eventually("20 connections at the app", () => app.sockets.size === 20);

  // The 21st: the TCP handshake completes (the kernel accepts) but the proxy closes it at once.
  const extra = await open(port);
  assert.equal(await echoes(extra, "one too many"), false, "the 21st connection is closed, nothing echoed");
  assert.equal(app.sockets.size, 20, "the refused connection never reached the application");
  assert.match(tp.proxy.stats.text(), /^listener\.127\.0\.0\.1_\d+\.downstream_global_cx_overflow: 1$/m);
  assert.equal(warnings.length, 1);
  assert.deepEqual(
    { ...(JSON.parse(warnings[0] as string) as object), listener: "-" },
    { event: "connection_limit_reached", listener: "-", limit: 20, active: 20, refused: 1 },
  );

  // The first 20 still work.
  const results = await Promise.all(admitted.map((s, i) => echoes(s, `again ${i}`)));
  assert.deepEqual(results, Array(20).fill(true));

  // Freeing one admits a new one.
  const freed = admitted.shift() as Socket;
  freed.destroy();
  await eventually("the freed connection gone from the app", () => app.sockets.size === 19);
  // The proxy released the slot when the downstream closed, before it closed the app's side.
  const replacement = await open(port);
  assert.equal(await echoes(replacement, "new"), true, "a connection is admitted once one is freed");
  admitted.push(replacement);
  assert.deepEqual(await Promise.all(admitted.map((s) => echoes(s, "last"))), Array(20).fill(true));
  for (const s of admitted) s.destroy();
});
