import assert from "node:assert/strict";
import { test } from "node:test";
import type { ShoalError } from "../../api/errors.js";
import { createCaService } from "../../ca/ca-service.js";
import { testRoot } from "../../ca/test-support.js";
import { errorFromStatus } from "../../xds-protocol/errors.js";
import { createMeshDiscoveryClient } from "../../xds-protocol/service.js";
import { bootstrapTokenVerifier } from "./hello-auth.js";
import { createPushServer } from "./push-server.js";
import { FakeMesh, helloNode, tempSocket, tokenFor, tokenKeys } from "./test-support.js";

const ca = createCaService({ authority: await testRoot(), tokenKeys: [tokenKeys.publicKey] });

/** Opens a raw stream, sends `messages`, and resolves with the error status the server ends it with. */
async function endsWith(messages: unknown[], o: { helloTimeoutMs?: number } = {}): Promise<ShoalError> {
  const sock = tempSocket();
  const server = createPushServer({
    ca,
    tokenVerifier: bootstrapTokenVerifier([tokenKeys.publicKey]),
    configFor: new FakeMesh().configFor,
    ...o,
  });
  await server.listen(sock.target);
  const channel = createMeshDiscoveryClient(sock.target);
  try {
    const call = channel.StreamConfig();
    call.on("error", () => undefined);
    call.on("data", () => undefined);
    const status = new Promise<ShoalError>((resolve) =>
      call.on("status", (s) => resolve(errorFromStatus(s))),
    );
    for (const m of messages) call.write(m);
    return await status;
  } finally {
    channel.close();
    await server.close();
    sock.cleanup();
  }
}

const hello = { type: "hello", token: tokenFor("foo", "a"), node: helloNode("foo", "a") };

test("the first message must be a hello", async () => {
  const e = await endsWith([{ type: "ack", version: "v1" }]);
  assert.equal(e.code, "XDS_BAD_MESSAGE");
  assert.match(e.message, /first message must be hello/);
});

test("malformed messages and a second hello end the stream", async () => {
  const bad = await endsWith([hello, { type: "nack", version: 7 }]);
  assert.equal(bad.code, "XDS_BAD_MESSAGE");
  assert.match(bad.message, /version/);
  const again = await endsWith([hello, hello]);
  assert.match(again.message, /hello was already received/);
  const extra = await endsWith([{ ...hello, node: { ...hello.node, admin: true } }]);
  assert.equal(extra.code, "XDS_BAD_MESSAGE");
});

test("a stream that never says hello is closed", async () => {
  const e = await endsWith([], { helloTimeoutMs: 50 });
  assert.equal(e.code, "XDS_HELLO_TIMEOUT");
});
