// How the proxy secures a connection to an upstream, prepared once per config: ISTIO_MUTUAL uses the
// workload certificate of the moment and accepts exactly the expected SPIFFE ids; SIMPLE and MUTUAL
// originate TLS with the files the DestinationRule names.
import { readFileSync } from "node:fs";
import type { PeerCertificate, SecureContext } from "node:tls";
import { checkServerIdentity, createSecureContext } from "node:tls";
import { ShoalError } from "../common/errors.js";
import { spiffeIdOf, spiffeServerIdentityCheck } from "../ca/peer-identity.js";
import { parseSpiffeId } from "../ca/spiffe.js";
import type { UpstreamTls } from "./proxy-config.js";

export type ServerCheck = (host: string, cert: PeerCertificate) => Error | undefined;

export interface TlsPlan {
  mode: UpstreamTls["mode"];
  /** Files-based context for SIMPLE/MUTUAL; ISTIO_MUTUAL takes the identity's current one. */
  context?: SecureContext;
  servername: string | undefined;
  alpn: string[] | undefined;
  check: ServerCheck | undefined;
  /** What the server's identity was checked against. Node skips checkServerIdentity on a resumed
   *  session, so a session is only resumed under the same expectation (see tls-sessions.ts). */
  expectation: string;
}

/** Istio's SNI for a mesh cluster: `outbound|9000||h` → `outbound_.9000_._.h`. */
export function istioSni(clusterName: string): string | undefined {
  const parts = clusterName.split("|");
  if (parts.length !== 4 || parts[0] !== "outbound") return undefined;
  return `outbound_.${parts[1]}_.${parts[2]}_.${parts[3]}`;
}

/** Accepts any workload identity of the trust domain (ISTIO_MUTUAL without subjectAltNames). */
function anyMeshIdentity(trustDomain: string): ServerCheck {
  return (_host, cert) => {
    const id = spiffeIdOf(cert);
    if (id !== undefined && parseSpiffeId(id)?.trustDomain === trustDomain) return undefined;
    return new ShoalError("TLS_PEER_IDENTITY", `server identity ${id ?? "(none)"} is not in ${trustDomain}`);
  };
}

/** DNS SANs (or CN) against the expected names, for SIMPLE/MUTUAL with subjectAltNames. */
function dnsNames(expected: readonly string[]): ServerCheck {
  return (host, cert) => {
    for (const name of expected) if (checkServerIdentity(name, cert) === undefined) return undefined;
    return new ShoalError(
      "TLS_PEER_IDENTITY",
      `server certificate for ${host} matches none of ${expected.join(", ")}`,
    );
  };
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ShoalError("PROXY_TLS_FILE", `${what} ${path}: ${(err as Error).message}`);
  }
}

export function tlsPlan(tls: UpstreamTls, clusterName: string, trustDomain: string): TlsPlan {
  if (tls.mode === "ISTIO_MUTUAL") {
    return {
      mode: tls.mode,
      servername: tls.sni ?? istioSni(clusterName) ?? "outbound.shoal.local",
      alpn: ["istio"],
      check:
        tls.subjectAltNames.length > 0
          ? spiffeServerIdentityCheck(tls.subjectAltNames)
          : anyMeshIdentity(trustDomain),
      expectation:
        tls.subjectAltNames.length > 0
          ? `san:${[...tls.subjectAltNames].sort().join(",")}`
          : `td:${trustDomain}`,
    };
  }
  const where = `cluster ${clusterName} (${tls.mode})`;
  const options: Parameters<typeof createSecureContext>[0] = { minVersion: "TLSv1.2" };
  if (tls.caCertificatesFile) options.ca = readPem(tls.caCertificatesFile, `${where}: caCertificates`);
  if (tls.mode === "MUTUAL") {
    if (!tls.clientCertificateFile || !tls.privateKeyFile) {
      throw new ShoalError("PROXY_TLS_FILE", `${where}: clientCertificate and privateKey are required`);
    }
    options.cert = readPem(tls.clientCertificateFile, `${where}: clientCertificate`);
    options.key = readPem(tls.privateKeyFile, `${where}: privateKey`);
  }
  return {
    mode: tls.mode,
    context: createSecureContext(options),
    servername: tls.sni,
    alpn: undefined,
    check: tls.subjectAltNames.length > 0 ? dnsNames(tls.subjectAltNames) : undefined,
    expectation: `dns:${[...tls.subjectAltNames].sort().join(",")}`,
  };
}
