import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { test } from "node:test";
import { isShoalError } from "../../api/errors.js";
import { generateTokenSigningKey } from "../../ca/bootstrap-token.js";
import { createCaService } from "../../ca/ca-service.js";
import { generateCsr } from "../../ca/csr.js";
import { IdentityClient } from "../../ca/identity-client.js";
import { testRoot } from "../../ca/test-support.js";
import { grpcCertificateTransport } from "../../proxy/certificate-transport.js";
import { createMeshDiscoveryClient } from "../../xds-protocol/service.js";
import { bootstrapTokenVerifier } from "./hello-auth.js";
import { createPushServer } from "./push-server.js";
import { tempSocket, tokenFor, tokenKeys } from "./test-support.js";

const mesh = await testRoot();

async function withServer(fn: (target: string) => Promise<void>): Promise<void> {
  const sock = tempSocket();
  const server = createPushServer({
    ca: createCaService({ authority: mesh, tokenKeys: [tokenKeys.publicKey] }),
    tokenVerifier: bootstrapTokenVerifier([tokenKeys.publicKey]),
    configFor: () => undefined,
  });
  try {
    await fn(await server.listen(sock.target));
  } finally {
    await server.close();
    sock.cleanup();
  }
}

test("Certificate returns a chain for the token's identity for a valid CSR", async () => {
  await withServer(async (target) => {
    const channel = createMeshDiscoveryClient(target);
    try {
      const request = grpcCertificateTransport(channel);
      const { csrPem } = await generateCsr();
      const res = await request(csrPem, tokenFor("foo", "httpbin-0", { serviceAccount: "httpbin" }));
      const leaf = new X509Certificate(res.chainPem);
      assert.equal(leaf.subjectAltName, "URI:spiffe://cluster.local/ns/foo/sa/httpbin");
      assert.ok(leaf.verify(new X509Certificate(res.trustBundlePem).publicKey), "chains to the mesh root");
      assert.equal(res.trustBundlePem, mesh.rootsPem);
    } finally {
      channel.close();
    }
  });
});

test("Certificate refuses a bad token and a malformed CSR, with the CA's error codes", async () => {
  await withServer(async (target) => {
    const channel = createMeshDiscoveryClient(target);
    try {
      const request = grpcCertificateTransport(channel);
      const { csrPem } = await generateCsr();
      const forger = generateTokenSigningKey();
      await assert.rejects(request(csrPem, tokenFor("foo", "p", { signingKey: forger.privateKey })), (e) =>
        isShoalError(e, "CA_TOKEN_BAD_SIGNATURE"),
      );
      await assert.rejects(
        request(csrPem, "not-a-jwt"),
        (e) => isShoalError(e) && e.code.startsWith("CA_TOKEN_"),
      );
      await assert.rejects(request("garbage", tokenFor("foo", "p")), (e) =>
        isShoalError(e, "CA_CSR_MALFORMED"),
      );
    } finally {
      channel.close();
    }
  });
});

test("the identity client gets its workload certificate over the gRPC transport", async () => {
  await withServer(async (target) => {
    const channel = createMeshDiscoveryClient(target);
    const identity = new IdentityClient({
      requestCertificate: grpcCertificateTransport(channel),
      token: () => tokenFor("bar", "curl-0", { serviceAccount: "curl" }),
      expectedSpiffeId: "spiffe://cluster.local/ns/bar/sa/curl",
    });
    try {
      const material = await identity.start();
      assert.equal(material.spiffeId, "spiffe://cluster.local/ns/bar/sa/curl");
    } finally {
      identity.stop();
      channel.close();
    }
  });
});
