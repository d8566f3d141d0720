// Shoal's own analyzer: AuthorizationPolicy rules with HTTP-only fields that land on TCP ports. Istio drops
// such ALLOW rules and widens such DENY rules there, silently; this says so, naming rule, field and port.
import type { AuthorizationPolicy, AuthzRule } from "../../api/istio/authorization-policy.js";
import { isHttpProtocol } from "../../api/protocol.js";
import { authzApplies } from "../../policy/applicability.js";
import { httpOnlyFields } from "../../policy/authz-compile.js";
import type { Inventory } from "../inventory.js";
import { declaredPorts } from "../inventory.js";
import type { AnyResource } from "../../api/meta.js";
import type { AnalysisMessage } from "../message.js";
import { messageAbout } from "../message.js";

const CODE = "SHOAL0101";

function listedPorts(rule: AuthzRule): number[] {
  const ports = new Set<number>();
  for (const t of rule.to ?? []) for (const p of t.operation?.ports ?? []) ports.add(Number(p));
  // A `destination.port` condition narrows the rule to those ports just as operation.ports does.
  for (const c of rule.when ?? [])
    if (c.key === "destination.port") for (const v of c.values ?? []) ports.add(Number(v));
  return [...ports].sort((a, b) => a - b);
}

/** The TCP ports (with why each is TCP) that a rule reaches on the workloads its policy applies to. */
function tcpPortsFor(inv: Inventory, p: AuthorizationPolicy, rule: AuthzRule): string[] | "unknown" {
  const workloads = inv.workloads.filter((w) => authzApplies(p, w).applies);
  const declared = workloads.flatMap((w) => declaredPorts(inv, w));
  const describe = (port: number): string | undefined => {
    const decls = declared.filter((d) => d.targetPort === port);
    // A port no Service declares goes through the inbound passthrough chain: TCP.
    if (decls.length === 0) return `${port} (no Service declares it: passthrough, TCP)`;
    const tcp = decls.find((d) => !isHttpProtocol(d.protocol));
    return tcp
      ? `${port} (Service ${tcp.service} port "${tcp.portName ?? ""}" is ${tcp.protocol})`
      : undefined;
  };
  const listed = listedPorts(rule);
  if (listed.length > 0) return listed.map(describe).filter((d): d is string => d !== undefined);
  if (workloads.length === 0) return "unknown";
  const tcpDeclared = [
    ...new Set(declared.filter((d) => !isHttpProtocol(d.protocol)).map((d) => d.targetPort)),
  ];
  return tcpDeclared.sort((a, b) => a - b).map((port) => describe(port)!);
}

export function httpFieldsOnTcp(inv: Inventory): AnalysisMessage[] {
  const out: AnalysisMessage[] = [];
  for (const p of inv.byKind("AuthorizationPolicy") as unknown as AuthorizationPolicy[]) {
    const action = p.spec.action ?? "ALLOW";
    if (action === "CUSTOM") continue;
    (p.spec.rules ?? []).forEach((rule, i) => {
      const fields = httpOnlyFields(rule);
      if (fields.length === 0) return;
      const ports = tcpPortsFor(inv, p, rule);
      const uses = `rule spec.rules[${i}] uses HTTP-only field${fields.length > 1 ? "s" : ""} ${fields.map((f) => `\`${f}\``).join(", ")}`;
      let text: string | undefined;
      if (ports === "unknown") {
        // Without the workloads' Services the ports are unknown; a DENY rule is still wider than it reads.
        if (action !== "ALLOW" && listedPorts(rule).length === 0)
          text = `${uses} and no ports: on every TCP port of the selected workloads Istio ignores those fields and the ${action} rule matches every connection`;
      } else if (ports.length > 0) {
        const where = `TCP port${ports.length > 1 ? "s" : ""} ${ports.join(", ")}`;
        text =
          action === "ALLOW"
            ? `${uses} on ${where}: Istio drops the whole ALLOW rule there, so it allows nothing on ${ports.length > 1 ? "those ports" : "that port"}`
            : `${uses} on ${where}: Istio ignores HTTP-only fields there and keeps only the rule's TCP fields, so the ${action} rule matches every connection to ${ports.length > 1 ? "those ports" : "that port"}`;
      }
      if (text) out.push(messageAbout(p as unknown as AnyResource, "Warning", CODE, text));
    });
  }
  return out;
}
