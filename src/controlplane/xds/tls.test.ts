import assert from "node:assert/strict";
import { test } from "node:test";
import { createCaService } from "../../ca/ca-service.js";
import { testIdentity, testRoot } from "../../ca/test-support.js";
import { XdsClient } from "../../proxy/xds-client.js";
import { controlPlaneChannelCredentials, controlPlaneServerCredentials } from "../../xds-protocol/tls.js";
import { bootstrapTokenVerifier } from "./hello-auth.js";
import { createPushServer } from "./push-server.js";
import { FakeMesh, helloNode, tokenFor, tokenKeys, waitFor } from "./test-support.js";

const ca0 = await testRoot();
const ca = createCaService({ authority: ca0, tokenKeys: [tokenKeys.publicKey] });

test("over TCP the stream runs on TLS, and a proxy refuses a server with another identity", async () => {
  const mesh2 = new FakeMesh();
  const server = createPushServer({
    ca,
    tokenVerifier: bootstrapTokenVerifier([tokenKeys.publicKey]),
    configFor: mesh2.configFor,
  });
  const istiod = await testIdentity(ca0, "istio-system", "istiod");
  const target = await server.listen("127.0.0.1:0", controlPlaneServerCredentials(istiod.key, istiod.cert));
  const connect = (spiffeId: string) => {
    const c = new XdsClient({
      target,
      credentials: controlPlaneChannelCredentials(istiod.ca, spiffeId),
      node: helloNode("foo", "a"),
      token: tokenFor("foo", "a"),
      backoff: { initialMs: 20, maxMs: 100 },
    });
    c.start();
    return c;
  };
  const good = connect("spiffe://cluster.local/ns/istio-system/sa/istiod");
  const fooled = connect("spiffe://cluster.local/ns/istio-system/sa/someone-else");
  try {
    assert.match(target, /^127\.0\.0\.1:\d+$/);
    await waitFor("synced over TLS", () => good.version === "a@1");
    await waitFor("a failed handshake", () => fooled.status.lastError !== undefined);
    assert.equal(fooled.config, undefined);
    assert.equal(fooled.status.lastError?.code, "XDS_UNAVAILABLE");
  } finally {
    good.close();
    fooled.close();
    await server.close();
  }
});
