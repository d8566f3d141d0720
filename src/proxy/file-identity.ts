// The workload identity from files, for `--cert-dir` (Istio's file-mounted certificate names):
// cert-chain.pem, key.pem and root-cert.pem. The SecureContext is built once and rebuilt by reload().
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { SecureContext } from "node:tls";
import { createSecureContext } from "node:tls";
import { ShoalError } from "../common/errors.js";
import { identityOf } from "../ca/peer-identity.js";
import type { ProxyIdentity } from "./connection-record.js";

export const CERT_FILES = { chain: "cert-chain.pem", key: "key.pem", roots: "root-cert.pem" } as const;

export interface FileIdentity extends ProxyIdentity {
  spiffeId: string;
  /** Re-reads the files and swaps the SecureContext (new handshakes use it); throws, keeping the old one. */
  reload(): void;
}

function load(dir: string) {
  const read = (name: string) => {
    try {
      return readFileSync(join(dir, name), "utf8");
    } catch (err) {
      throw new ShoalError("PROXY_CERT_FILES", `${join(dir, name)}: ${(err as Error).message}`);
    }
  };
  const chain = read(CERT_FILES.chain);
  const key = read(CERT_FILES.key);
  const roots = read(CERT_FILES.roots);
  const id = identityOf(new X509Certificate(chain));
  if (!id)
    throw new ShoalError("PROXY_CERT_FILES", `${join(dir, CERT_FILES.chain)}: no SPIFFE id in the leaf`);
  const context = createSecureContext({ key, cert: chain, ca: roots, minVersion: "TLSv1.2" });
  return { context, roots, id, chain };
}

export function fileIdentity(dir: string): FileIdentity {
  let cur = load(dir);
  return {
    getSecureContext: (): SecureContext => cur.context,
    get rootsPem() {
      return cur.roots;
    },
    get chainPem() {
      return cur.chain;
    },
    get trustDomain() {
      return cur.id.trustDomain;
    },
    get spiffeId() {
      return `spiffe://${cur.id.trustDomain}/ns/${cur.id.namespace}/sa/${cur.id.serviceAccount}`;
    },
    reload() {
      cur = load(dir);
    },
  };
}

/** An identity without certificates: plaintext works, every mTLS handshake fails. */
export function noIdentity(trustDomain: string): ProxyIdentity {
  return {
    getSecureContext() {
      throw new ShoalError("IDENTITY_NOT_READY", "the proxy has no workload certificate (--cert-dir)");
    },
    rootsPem: "",
    trustDomain,
  };
}
