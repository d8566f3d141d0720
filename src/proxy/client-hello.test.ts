// SNI from a real ClientHello (captured from Node's TLS client) and from cut or malformed input.
import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import { test } from "node:test";
import tls from "node:tls";
import { clientHelloServerName, isMeshTls, parseClientHello } from "./client-hello.js";
import { looksLikeTls } from "./protocol-detect.js";

async function captureHello(servername: string, ALPNProtocols?: string[]): Promise<Buffer> {
  const server = net.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const got = once(server, "connection").then(async ([s]) => {
    const [chunk] = (await once(s as net.Socket, "data")) as [Buffer];
    (s as net.Socket).destroy();
    return chunk;
  });
  const c = tls.connect({
    port: (server.address() as net.AddressInfo).port,
    host: "127.0.0.1",
    servername,
    ...(ALPNProtocols ? { ALPNProtocols } : {}),
  });
  c.on("error", () => undefined);
  const hello = await got;
  c.destroy();
  server.close();
  return hello;
}

test("reads the SNI of a real ClientHello; cut or foreign input gives undefined", async () => {
  const hello = await captureHello("Outbound_.9000_._.tcp-echo.foo.svc.cluster.local");
  assert.equal(looksLikeTls(hello), true);
  assert.equal(clientHelloServerName(hello), "outbound_.9000_._.tcp-echo.foo.svc.cluster.local");
  for (const n of [0, 5, 20, 60]) assert.equal(clientHelloServerName(hello.subarray(0, n)), undefined);
  assert.equal(clientHelloServerName(Buffer.from("GET / HTTP/1.1\r\n\r\n")), undefined);
  assert.equal(looksLikeTls(Buffer.from("GET / HTTP/1.1\r\n")), false);
});

test("ALPN tells mesh mTLS (istio) from an application's own TLS", async () => {
  const mesh = parseClientHello(await captureHello("a.b", ["istio"]));
  assert.deepEqual(mesh, { serverName: "a.b", alpn: ["istio"] });
  assert.equal(isMeshTls(mesh), true);
  const own = parseClientHello(await captureHello("a.b", ["h2", "http/1.1"]));
  assert.equal(isMeshTls(own), false);
  assert.equal(isMeshTls(parseClientHello(await captureHello("a.b"))), false);
});
