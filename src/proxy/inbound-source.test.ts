// The inbound side connects to the application from 127.0.0.6 (Istio's InboundPassthroughBindIpv4), on TCP
// and HTTP chains, so the capture can tell it from the proxy's hairpin connections to its own pod IP; and
// connections from different sources are never pooled together.
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { once } from "node:events";
import { after, test } from "node:test";
import { testRoot } from "../ca/test-support.js";
import {
  exchange,
  inboundChain,
  startApp,
  startTestProxy,
  testConfig,
  testWorkload,
} from "../testing/proxy-harness.js";
import { INBOUND_UPSTREAM_SOURCE, inboundAppTarget } from "./inbound-connection.js";
import { targetKey } from "./upstream-connect.js";

const mesh = await testRoot();
const server = await testWorkload(mesh, "foo", "app");

test("inbound TCP: the application sees the connection come from 127.0.0.6", async () => {
  const peers: Array<string | undefined> = [];
  const app = await startApp("echo", (s) => peers.push(s.remoteAddress));
  after(() => app.close());
  const tp = await startTestProxy(
    testConfig({ chains: [inboundChain(app.port, "PERMISSIVE")] }),
    server.identity,
  );
  after(() => tp.proxy.close());
  tp.dst.current = { address: "127.0.0.1", port: app.port, family: "IPv4" };
  const res = await exchange(tp.proxy.ports.inbound, "hello");
  assert.equal(res.data, "hello");
  assert.deepEqual(peers, [INBOUND_UPSTREAM_SOURCE]);
});

test("inbound HTTP: the application sees requests come from 127.0.0.6", async () => {
  const app = http.createServer((req, res) => res.end(`peer=${req.socket.remoteAddress}`));
  app.listen(0, "127.0.0.1");
  await once(app, "listening");
  after(() => app.close());
  const port = (app.address() as AddressInfo).port;
  const tp = await startTestProxy(
    testConfig({ chains: [inboundChain(port, "PERMISSIVE", "http")] }),
    server.identity,
  );
  after(() => tp.proxy.close());
  tp.dst.current = { address: "127.0.0.1", port, family: "IPv4" };
  const res = await exchange(
    tp.proxy.ports.inbound,
    "GET /ip HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n",
  );
  assert.match(res.data, /^HTTP\/1\.1 200/);
  assert.match(res.data, /peer=127\.0\.0\.6$/);
});

test("the application target: 127.0.0.6 for IPv4 addresses only; pools keep sources apart", () => {
  const inbound = inboundAppTarget("10.244.0.3", 8080);
  assert.equal(inbound.source, INBOUND_UPSTREAM_SOURCE);
  assert.equal(inboundAppTarget("fd00::3", 8080).source, undefined, "no IPv4 source for an IPv6 app");
  // The same endpoint reached by the outbound side (a hairpin) is another pool: it must go through capture.
  const outbound = { address: "10.244.0.3", port: 8080, tls: undefined };
  assert.notEqual(targetKey(inbound), targetKey(outbound));
  assert.equal(targetKey(inbound), targetKey(inboundAppTarget("10.244.0.3", 8080)));
});
