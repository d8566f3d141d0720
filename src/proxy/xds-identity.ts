// The proxy's workload identity from the control plane: an IdentityClient whose CSRs go over the
// config channel's Certificate RPC with the pod's bootstrap token. The first certificate is awaited
// (retrying while the control plane is away); renewals swap the SecureContext for new handshakes.
import { IdentityClient } from "../ca/identity-client.js";
import { grpcCertificateTransport } from "./certificate-transport.js";
import type { ProxyIdentity } from "./connection-record.js";
import type { LiteChannel } from "./grpc-lite.js";

export interface XdsIdentity extends ProxyIdentity {
  readonly client: IdentityClient;
  readonly spiffeId: string;
}

/** `spiffe://TD/ns/…` → `TD`. */
function trustDomainOf(spiffeId: string): string {
  return spiffeId.slice("spiffe://".length).split("/")[0] ?? "";
}

/** Resolves once the first certificate is issued; `log` gets one structured event per attempt/rotation. */
export async function xdsIdentity(o: {
  channel: LiteChannel;
  token: () => Promise<string>;
  log: (event: string, fields?: Record<string, unknown>) => void;
  /** Delay between first-certificate attempts: doubles from 100 ms up to this (default 2 s). */
  maxRetryMs?: number;
  stopped?: () => boolean;
}): Promise<XdsIdentity> {
  const client = new IdentityClient({
    requestCertificate: grpcCertificateTransport(o.channel),
    token: o.token,
  });
  client.on("rotated", (m) =>
    o.log("certificate_rotated", { spiffeId: m.spiffeId, serial: m.serialNumber, notAfter: m.notAfter }),
  );
  client.on("trustUpdated", (m) =>
    o.log("trust_bundle_updated", { roots: (m.trustBundlePem.match(/BEGIN CERTIFICATE/g) ?? []).length }),
  );
  client.on("renewFailed", (err, retryInMs) =>
    o.log("certificate_renew_failed", { error: String(err), retryInMs }),
  );
  let delay = 100;
  for (;;) {
    try {
      await client.start();
      break;
    } catch (err) {
      if (o.stopped?.()) throw err;
      o.log("certificate_request_failed", { error: (err as Error).message, retryInMs: delay });
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, o.maxRetryMs ?? 2000);
    }
  }
  const current = () => client.current!;
  return {
    client,
    getSecureContext: () => client.secureContext,
    get rootsPem() {
      return current().trustBundlePem;
    },
    get chainPem() {
      return current().chainPem;
    },
    get trustDomain() {
      return trustDomainOf(current().spiffeId);
    },
    get spiffeId() {
      return current().spiffeId;
    },
  };
}
