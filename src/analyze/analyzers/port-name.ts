// IST0118 PortNameIsNotUnderNamingConvention: Service ports whose protocol Istio cannot tell (no
// appProtocol, name without a known `<protocol>[-suffix]` prefix) are handled as opaque TCP.
import type { Service } from "../../api/k8s/service.js";
import { portProtocol } from "../../api/protocol.js";
import type { Inventory } from "../inventory.js";
import type { AnyResource } from "../../api/meta.js";
import type { AnalysisMessage } from "../message.js";
import { messageAbout } from "../message.js";

export function portNameConvention(inv: Inventory): AnalysisMessage[] {
  const out: AnalysisMessage[] = [];
  for (const s of inv.services as Service[]) {
    for (const p of s.spec.ports ?? []) {
      if (p.protocol === "UDP" || p.protocol === "SCTP") continue;
      if (portProtocol(p) !== "UNKNOWN") continue;
      out.push(
        messageAbout(
          s as unknown as AnyResource,
          "Warning",
          "IST0118",
          `Port name ${p.name ?? "(unnamed)"} (port: ${p.port}, targetPort: ${p.targetPort ?? p.port}) doesn't follow the naming convention of Istio port; its protocol is unknown, so it is handled as TCP (name it http-…, tcp-…, or set appProtocol)`,
        ),
      );
    }
  }
  return out;
}
