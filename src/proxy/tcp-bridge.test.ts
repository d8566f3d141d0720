// The TCP bridge on loopback: megabytes both ways arrive intact and in order (many small writes and
// large ones), each direction's FIN is passed on separately, and the byte counts come out right.
import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import type { AddressInfo, Socket } from "node:net";
import { test } from "node:test";
import { bridge } from "./tcp-bridge.js";
import type { BridgeResult } from "./tcp-bridge.js";

/** A connected pair of loopback sockets: [the end the test drives, the end handed to the bridge]. */
async function socketPair(): Promise<[Socket, Socket]> {
  const server = net.createServer({ allowHalfOpen: true });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const accepted = once(server, "connection") as Promise<[Socket]>;
  const outer = net.connect({
    port: (server.address() as AddressInfo).port,
    host: "127.0.0.1",
    allowHalfOpen: true,
  });
  const [inner] = await accepted;
  await once(outer, "connect");
  server.close();
  return [outer, inner];
}

/** Reads a socket to its end. */
async function readAll(s: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  s.on("data", (d: Buffer) => chunks.push(d));
  await once(s, "end");
  return Buffer.concat(chunks);
}

const pattern = (n: number, seed: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff));

test("bytes cross both ways intact, FINs pass separately, and the counts are the bytes carried", async () => {
  const [client, down] = await socketPair();
  const [app, up] = await socketPair();
  const results: BridgeResult[] = [];
  const finished = new Promise<void>((resolve) => bridge(down, up, 0, (r) => (results.push(r), resolve())));

  const request = pattern(5 * 1024 * 1024 + 123, 1);
  const response = pattern(1024 * 1024 + 7, 2);
  const atApp = readAll(app);
  const atClient = readAll(client);
  // Many small writes in one tick, then a large one, then the client half-closes.
  for (let i = 0; i < 100; i++) client.write(request.subarray(i * 1000, (i + 1) * 1000));
  client.end(request.subarray(100_000));
  assert.deepEqual(await atApp, request, "the app got every byte in order, then the FIN");
  // The app still answers after the client's FIN: half-close, not close.
  app.end(response);
  assert.deepEqual(await atClient, response);
  await finished;
  assert.deepEqual(results, [{ received: request.length, sent: response.length, idleTimeout: false }]);
});

test("a reset on one side destroys the other, and done still runs once", async () => {
  const [client, down] = await socketPair();
  const [app, up] = await socketPair();
  app.on("error", () => undefined);
  const results: BridgeResult[] = [];
  const finished = new Promise<void>((resolve) => bridge(down, up, 0, (r) => (results.push(r), resolve())));
  client.write("hello");
  const [first] = (await once(app, "data")) as [Buffer];
  assert.equal(first.toString(), "hello");
  const appEnded = once(app, "end");
  client.resetAndDestroy();
  await finished;
  await appEnded; // the upstream side was closed for it
  assert.equal(up.destroyed, true);
  assert.equal(results.length, 1);
  assert.equal(results[0]?.received, 5);
});
