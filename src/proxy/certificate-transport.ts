// The identity client's transport over gRPC: sends the CSR and bootstrap token to the control plane's
// Certificate RPC and returns the chain and trust bundle (the shape the identity client expects).
import { Metadata } from "@grpc/grpc-js";
import { ShoalError } from "../common/errors.js";
import { errorFromStatus } from "../xds-protocol/errors.js";
import { parseCertificateReply } from "../xds-protocol/messages.js";
import type { CertificateRequest } from "../xds-protocol/messages.js";
import type { MeshDiscoveryClient } from "../xds-protocol/service.js";

export interface IssuedCertificate {
  chainPem: string;
  trustBundlePem: string;
}

export type CertificateTransport = (csrPem: string, token: string) => Promise<IssuedCertificate>;

/**
 * A transport on `client` (the caller's channel, e.g. the XdsClient's, which it also closes).
 * Failures reject with the server's ShoalError code (CA_TOKEN_EXPIRED, CA_CSR_MALFORMED, XDS_UNAVAILABLE…).
 */
export function grpcCertificateTransport(
  client: MeshDiscoveryClient,
  o: { timeoutMs?: number } = {},
): CertificateTransport {
  return (csrPem, token) =>
    new Promise((resolve, reject) => {
      const request: CertificateRequest = { csrPem, token };
      const deadline = new Date(Date.now() + (o.timeoutMs ?? 10_000));
      client.Certificate(request, new Metadata(), { deadline }, (err, reply) => {
        if (err) return reject(errorFromStatus(err));
        const checked = parseCertificateReply(reply);
        if (!checked.ok) return reject(new ShoalError("IDENTITY_BAD_RESPONSE", checked.error));
        resolve({ chainPem: checked.value.chainPem, trustBundlePem: checked.value.rootsPem });
      });
    });
}
