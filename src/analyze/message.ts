// Analysis messages in istioctl's shape: `Error [IST0106] (AuthorizationPolicy foo/x) text`.
import type { Diagnostic } from "../api/diagnostic.js";
import { formatRef } from "../api/diagnostic.js";
import type { AnyResource } from "../api/meta.js";

export type Level = "Error" | "Warning" | "Info";

export interface AnalysisMessage {
  level: Level;
  code: string;
  /** Istio's analyzer name for the code (ReferencedResourceNotFound, ...). */
  name: string;
  resource: { kind: string; namespace?: string | undefined; name: string };
  text: string;
  /** Where the resource came from, when known. */
  origin?: string | undefined;
  /** The resource the message is about (lets the caller find its origin). */
  subject?: AnyResource | undefined;
}

/** Istio's names for the codes Shoal emits. */
export const CODE_NAMES: Record<string, string> = {
  IST0101: "ReferencedResourceNotFound",
  IST0106: "SchemaValidationError",
  IST0109: "ConflictingMeshGatewayVirtualServiceHosts",
  IST0118: "PortNameIsNotUnderNamingConvention",
  IST0127: "NoMatchingWorkloadsFound",
  IST0128: "NoServerCertificateVerificationDestinationLevel",
  IST0129: "NoServerCertificateVerificationPortLevel",
  IST0130: "VirtualServiceUnreachableRule",
  IST0131: "VirtualServiceIneffectiveMatch",
  SHOAL0001: "ValidationWarning",
  SHOAL0002: "NotImplemented",
  SHOAL0101: "HttpFieldsOnTcpPort",
};

/** A message about `subject` (analyzers use this so every message can point at its resource's file). */
export function messageAbout(
  subject: AnyResource,
  level: Level,
  code: string,
  text: string,
): AnalysisMessage {
  return {
    level,
    code,
    name: CODE_NAMES[code] ?? code,
    resource: { kind: subject.kind, namespace: subject.metadata.namespace, name: subject.metadata.name },
    text,
    subject,
  };
}

export function messageFromDiagnostic(d: Diagnostic): AnalysisMessage {
  const where = d.path ? `${d.path}: ` : "";
  return {
    level: d.severity === "error" ? "Error" : d.severity === "warning" ? "Warning" : "Info",
    code: d.code,
    name: CODE_NAMES[d.code] ?? d.code,
    resource: d.resource,
    text: `${where}${d.message}`,
    origin: d.source ? `${d.source}${d.line ? `:${d.line}` : ""}` : undefined,
  };
}

export function formatMessage(m: AnalysisMessage): string {
  const origin = m.origin ? ` (${m.origin})` : "";
  return `${m.level} [${m.code}] (${formatRef(m.resource)}) ${m.text}${origin}`;
}
