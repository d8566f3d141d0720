// The identity client's transport over gRPC: sends the CSR and bootstrap token to the control plane's
// Certificate RPC and returns the chain and trust bundle (the shape the identity client expects).
import { ShoalError } from "../common/errors.js";
import type { CertificateRequest } from "../xds-protocol/messages.js";
import type { MeshDiscoveryClient } from "../xds-protocol/service.js";
import type { LiteChannel } from "./grpc-lite.js";
import { CERTIFICATE_PATH, ERROR_CODE_METADATA, errorOfStatus } from "./grpc-lite.js";
import { checkCertificateReply } from "./xds-messages.js";

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
  client: LiteChannel | MeshDiscoveryClient,
  o: { timeoutMs?: number } = {},
): CertificateTransport {
  const timeoutMs = o.timeoutMs ?? 10_000;
  return async (csrPem, token) => {
    const request: CertificateRequest = { csrPem, token };
    const reply =
      "unary" in client
        ? await client.unary(CERTIFICATE_PATH, request, timeoutMs)
        : await libraryCall(client, request, timeoutMs);
    const checked = checkCertificateReply(reply);
    if (!checked.ok) throw new ShoalError("IDENTITY_BAD_RESPONSE", checked.error);
    return { chainPem: checked.value.chainPem, trustBundlePem: checked.value.rootsPem };
  };
}

/** The same call on a gRPC library client (a caller's own channel). */
function libraryCall(
  client: MeshDiscoveryClient,
  request: CertificateRequest,
  timeoutMs: number,
): Promise<unknown> {
  type Unary = (
    request: unknown,
    options: { deadline: Date },
    callback: Parameters<MeshDiscoveryClient["Certificate"]>[3],
  ) => void;
  return new Promise((resolve, reject) =>
    (client.Certificate as unknown as Unary).call(
      client,
      request,
      { deadline: new Date(Date.now() + timeoutMs) },
      (err, reply) => {
        if (!err) return resolve(reply);
        const code = err.metadata?.get(ERROR_CODE_METADATA)[0];
        reject(
          errorOfStatus({
            code: err.code,
            details: err.details,
            errorCode: typeof code === "string" ? code : undefined,
          }),
        );
      },
    ),
  );
}
