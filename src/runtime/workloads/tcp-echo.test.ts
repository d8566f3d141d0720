import assert from "node:assert/strict";
import net from "node:net";
import { test } from "node:test";

import { silentLogger } from "./log.js";
import { parseTcpEchoArgs, startTcpEcho } from "./tcp-echo.js";

/** Connects, sends `input`, half-closes and collects everything until the server ends. */
function exchange(port: number, input: string, halfClose = true): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", () => {
      socket.end();
      resolve(Buffer.concat(chunks).toString("utf8"));
    });
    socket.on("error", reject);
    socket.write(input);
    if (halfClose) socket.end();
  });
}

test("parses PORTS PREFIX like istio's tcp-echo-server, defaulting to 9000 hello", () => {
  assert.deepEqual(parseTcpEchoArgs(["9000,9001,9002", "hello"], {}), {
    ports: [9000, 9001, 9002],
    prefix: "hello",
    idleCloseMs: 1000,
  });
  assert.deepEqual(parseTcpEchoArgs([], { TCP_ECHO_IDLE_CLOSE_MS: "0" }), {
    ports: [9000],
    prefix: "hello",
    idleCloseMs: 0,
  });
  assert.throws(() => parseTcpEchoArgs(["90x1", "hi"], {}), /tcp-echo: ports\[0\]: "90x1" is not a port/);
});

test("answers every line on every port with PREFIX <line>", async () => {
  const echo = await startTcpEcho({
    ports: [0, 0, 0],
    prefix: "hello",
    host: "127.0.0.1",
    idleCloseMs: 0,
    log: silentLogger,
  });
  try {
    assert.equal(echo.ports.length, 3);
    for (const port of echo.ports) {
      assert.equal(await exchange(port, `port ${port}\n`), `hello port ${port}\n`);
    }
    const port = echo.ports[0]!;
    assert.equal(await exchange(port, "one\ntwo\n"), "hello one\nhello two\n");
  } finally {
    await echo.close();
  }
});

test("when the client ends its side, the last partial line is answered and the server ends", async () => {
  const echo = await startTcpEcho({
    ports: [0],
    prefix: "hi",
    host: "127.0.0.1",
    idleCloseMs: 0,
    log: silentLogger,
  });
  try {
    assert.equal(await exchange(echo.ports[0]!, "a\nno newline"), "hi a\nhi no newline");
  } finally {
    await echo.close();
  }
});

test("a client that never half-closes (OpenBSD nc) is ended after the idle time", async () => {
  const events: string[] = [];
  const echo = await startTcpEcho({
    ports: [0],
    prefix: "hello",
    host: "127.0.0.1",
    idleCloseMs: 100,
    log: (event) => events.push(event),
  });
  try {
    assert.equal(await exchange(echo.ports[0]!, "port 9000\n", false), "hello port 9000\n");
    assert.deepEqual(events.slice(0, 3), ["listening", "connection", "request"]);
  } finally {
    await echo.close();
  }
});

test("close ends open connections and stops listening", async () => {
  const echo = await startTcpEcho({
    ports: [0],
    prefix: "x",
    host: "127.0.0.1",
    idleCloseMs: 0,
    log: silentLogger,
  });
  const port = echo.ports[0]!;
  const socket = net.connect({ host: "127.0.0.1", port });
  await new Promise((resolve) => socket.once("connect", resolve));
  const closed = new Promise((resolve) => socket.once("close", resolve));
  await echo.close();
  await closed;
  await assert.rejects(exchange(port, "x\n"), /ECONNREFUSED/);
});
