// IST0161 InvalidGatewayCredential: a Gateway server terminating TLS (SIMPLE, MUTUAL, OPTIONAL_MUTUAL)
// whose credentialName Secret is missing from the gateway workload's namespace, lacks its keys, or holds
// a certificate and key that do not parse or do not belong together (or no CA for MUTUAL). The gateway
// then refuses TLS for that server only; its other servers keep serving, which the message says. Runs
// only for Gateways that select a workload in the input (Istio looks in the workload's namespace).
import { X509Certificate, createPrivateKey } from "node:crypto";
import type { Gateway } from "../../api/istio/gateway.js";
import type { AnyResource } from "../../api/meta.js";
import { selectorMatches } from "../../policy/workload.js";
import { credentialFrom } from "../../translate/gateway-credentials.js";
import type { SnapshotSecret } from "../../translate/snapshot-types.js";
import type { Inventory } from "../inventory.js";
import type { AnalysisMessage } from "../message.js";
import { messageAbout } from "../message.js";

export const INVALID_GATEWAY_CREDENTIAL = "IST0161";
const TERMINATING = new Set(["SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL"]);

/** What the crypto library says about a credential that looks like PEM; undefined when it is usable. */
export function credentialProblem(cert: string, key: string, ca: string | undefined): string | undefined {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    return `tls.crt does not parse as a certificate (${(err as Error).message})`;
  }
  try {
    if (!x509.checkPrivateKey(createPrivateKey(key)))
      return "tls.key is not the key of the certificate in tls.crt";
  } catch (err) {
    return `tls.key does not parse as a private key (${(err as Error).message})`;
  }
  if (ca !== undefined)
    try {
      new X509Certificate(ca);
    } catch (err) {
      return `ca.crt does not parse as a certificate (${(err as Error).message})`;
    }
  return undefined;
}

function secretsOf(inv: Inventory): SnapshotSecret[] {
  return inv.byKind("Secret").map((r) => {
    const s = r as AnyResource & {
      type?: string;
      data?: Record<string, string>;
      stringData?: Record<string, string>;
    };
    return {
      namespace: s.metadata.namespace ?? "default",
      name: s.metadata.name,
      type: s.type,
      data: s.data,
      stringData: s.stringData,
    };
  });
}

export function gatewayCredentials(inv: Inventory): AnalysisMessage[] {
  const out: AnalysisMessage[] = [];
  const secrets = secretsOf(inv);
  for (const g of inv.byKind("Gateway") as unknown as Gateway[]) {
    const selector = g.spec.selector ?? {};
    const namespaces = [
      ...new Set(inv.workloads.filter((w) => selectorMatches(selector, w.labels)).map((w) => w.namespace)),
    ].sort();
    (g.spec.servers ?? []).forEach((server, i) => {
      const mode = server.tls?.mode ?? "";
      if (!TERMINATING.has(mode) || !server.tls?.credentialName) return;
      const name = server.tls.credentialName;
      const where = `server ${i} (port ${server.port?.number ?? "?"} ${server.port?.name ?? ""}, hosts ${(server.hosts ?? []).join(",")})`;
      for (const ns of namespaces) {
        const c = credentialFrom(secrets, ns, name);
        let problem: string | undefined;
        if (!c.ok) problem = c.error;
        else {
          const p = credentialProblem(c.cert, c.key, c.ca);
          if (p) problem = `Secret ${ns}/${name}: ${p}`;
          else if (mode === "MUTUAL" && !c.ca)
            problem = `Secret ${ns}/${name} has no ca.crt (nor a Secret ${name}-cacert) to verify clients with`;
        }
        if (!problem) continue;
        out.push(
          messageAbout(
            g as unknown as AnyResource,
            "Error",
            INVALID_GATEWAY_CREDENTIAL,
            `Invalid credentialName "${name}" for ${where}: ${problem}. The gateway in namespace ${ns} refuses TLS for this server and keeps serving its other servers.`,
          ),
        );
      }
    });
  }
  return out.map((m) => ({ ...m, name: "InvalidGatewayCredential" }));
}
