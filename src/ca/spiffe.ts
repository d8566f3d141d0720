// SPIFFE identities of the mesh: spiffe://<trust-domain>/ns/<namespace>/sa/<service-account>.
import { ShoalError } from "../common/errors.js";

export interface WorkloadIdentity {
  trustDomain: string;
  namespace: string;
  serviceAccount: string;
}

export const DEFAULT_TRUST_DOMAIN = "cluster.local";

// Kubernetes names: a namespace is a DNS-1123 label, a service account a DNS-1123 subdomain.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// SPIFFE trust domain: lowercase letters, digits, '.', '-', '_' (SPIFFE ID spec §2.1).
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;

export function isNamespaceName(s: string): boolean {
  return s.length <= 63 && DNS_LABEL.test(s);
}

export function isServiceAccountName(s: string): boolean {
  return s.length <= 253 && DNS_SUBDOMAIN.test(s);
}

export function isTrustDomain(s: string): boolean {
  return s.length > 0 && s.length <= 255 && TRUST_DOMAIN.test(s);
}

/** Checks every part of an identity; throws CA_INVALID_IDENTITY naming the bad part. */
export function checkIdentity(id: WorkloadIdentity): WorkloadIdentity {
  if (!isTrustDomain(id.trustDomain)) {
    throw new ShoalError(
      "CA_INVALID_IDENTITY",
      `trust domain ${JSON.stringify(id.trustDomain)} is not valid`,
    );
  }
  if (!isNamespaceName(id.namespace)) {
    throw new ShoalError(
      "CA_INVALID_IDENTITY",
      `namespace ${JSON.stringify(id.namespace)} is not a DNS-1123 label`,
    );
  }
  if (!isServiceAccountName(id.serviceAccount)) {
    throw new ShoalError(
      "CA_INVALID_IDENTITY",
      `service account ${JSON.stringify(id.serviceAccount)} is not a DNS-1123 subdomain`,
    );
  }
  return id;
}

/** The SPIFFE URI of an identity (its parts are checked first). */
export function spiffeId(id: WorkloadIdentity): string {
  checkIdentity(id);
  return `spiffe://${id.trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

/** Parses a SPIFFE URI of the Istio workload form, or returns undefined when it is not one. */
export function parseSpiffeId(uri: string): WorkloadIdentity | undefined {
  const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(uri);
  if (!m) return undefined;
  const id = { trustDomain: m[1] as string, namespace: m[2] as string, serviceAccount: m[3] as string };
  if (!isTrustDomain(id.trustDomain) || !isNamespaceName(id.namespace)) return undefined;
  if (!isServiceAccountName(id.serviceAccount)) return undefined;
  return id;
}

/** The principal form policies use: the SPIFFE id without its scheme (`cluster.local/ns/foo/sa/curl`). */
export function principalOf(id: WorkloadIdentity): string {
  return spiffeId(id).slice("spiffe://".length);
}
