// IST0128 NoServerCertificateVerificationDestinationLevel and IST0129 ...PortLevel: a DestinationRule
// that originates TLS (SIMPLE or MUTUAL) without caCertificates does not say how to check the server.
// Istio's analyzer still reports it (also for SIMPLE), except when the certificates come from a
// credentialName on a DestinationRule with a workloadSelector; subsets are not looked at.
import type { DestinationRule } from "../../api/istio/destination-rule.js";
import type { ClientTLSSettings } from "../../api/istio/traffic-policy.js";
import type { AnyResource } from "../../api/meta.js";
import type { Inventory } from "../inventory.js";
import type { AnalysisMessage } from "../message.js";
import { messageAbout } from "../message.js";

function unverified(tls: ClientTLSSettings | undefined, dr: DestinationRule): string | undefined {
  const mode = tls?.mode;
  if (mode !== "SIMPLE" && mode !== "MUTUAL") return undefined;
  if (tls?.caCertificates) return undefined;
  if (tls?.credentialName && dr.spec.workloadSelector) return undefined;
  return mode;
}

export function caCertificates(inv: Inventory): AnalysisMessage[] {
  const out: AnalysisMessage[] = [];
  for (const r of inv.byKind("DestinationRule")) {
    const dr = r as unknown as DestinationRule;
    const ns = dr.metadata.namespace ?? "default";
    const name = `${ns}/${dr.metadata.name}`;
    const tp = dr.spec.trafficPolicy;
    const top = unverified(tp?.tls, dr);
    if (top)
      out.push(
        messageAbout(
          r as AnyResource,
          "Warning",
          "IST0128",
          `DestinationRule ${name} in namespace ${ns} has TLS mode set to ${top} but no caCertificates are set to validate server identity for host: ${dr.spec.host}`,
        ),
      );
    for (const ps of tp?.portLevelSettings ?? []) {
      const mode = unverified(ps.tls, dr);
      if (mode)
        out.push(
          messageAbout(
            r as AnyResource,
            "Warning",
            "IST0129",
            `DestinationRule ${name} in namespace ${ns} has TLS mode set to ${mode} but no caCertificates are set to validate server identity for host: ${dr.spec.host} at port number:${ps.port.number}`,
          ),
        );
    }
  }
  return out;
}
