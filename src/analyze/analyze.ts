// `analyze(resources)`: validation errors and warnings plus every analyzer's findings, in istioctl's
// message shape, filtered to the namespaces asked for.
import type { Diagnostic } from "../api/diagnostic.js";
import { formatPath } from "../api/diagnostic.js";
import type { LoadedDocument } from "../api/load.js";
import type { AnyResource } from "../api/meta.js";
import { asApplied } from "../api/meta.js";
import { NOT_IMPLEMENTED_CODE, notImplementedFindings } from "../api/not-implemented.js";
import { proxyAnnotationFindings } from "../api/proxy-annotations.js";
import { validateDocument } from "../api/validate.js";
import { caCertificates } from "./analyzers/ca-certificates.js";
import { conflictingMeshHosts } from "./analyzers/conflicting-mesh-hosts.js";
import { gatewayCredentials } from "./analyzers/gateway-credentials.js";
import { httpFieldsOnTcp } from "./analyzers/http-fields-on-tcp.js";
import { noMatchingWorkloads } from "./analyzers/no-matching-workloads.js";
import { portNameConvention } from "./analyzers/port-name.js";
import { referencedResources } from "./analyzers/referenced-resource.js";
import { unreachableRules } from "./analyzers/unreachable-rules.js";
import { buildInventory } from "./inventory.js";
import type { AnalysisMessage } from "./message.js";
import { messageAbout, messageFromDiagnostic } from "./message.js";

export interface AnalyzeOptions {
  /** Only report messages about resources in this namespace (`-n`); also the default namespace. */
  namespace?: string | undefined;
  rootNamespace?: string | undefined;
}

export interface AnalyzeResult {
  messages: AnalysisMessage[];
  /** The resources that passed validation (what the analyzers saw). */
  resources: AnyResource[];
}

const LEVEL_ORDER = { Error: 0, Warning: 1, Info: 2 } as const;

/** Runs every analyzer over already-valid resources (a later one replaces an earlier one of the same
 *  kind, namespace and name, as applying them in order would: two versions of one VirtualService are
 *  not a conflict). */
export function analyze(resources: AnyResource[], rootNamespace = "istio-system"): AnalysisMessage[] {
  const inv = buildInventory(asApplied(resources), rootNamespace);
  return [
    ...referencedResources(inv),
    ...portNameConvention(inv),
    ...noMatchingWorkloads(inv, rootNamespace),
    ...httpFieldsOnTcp(inv),
    ...conflictingMeshHosts(inv),
    ...unreachableRules(inv),
    ...caCertificates(inv),
    ...gatewayCredentials(inv),
  ];
}

/** Validates loaded documents, analyzes the valid ones and returns every message, sorted. */
export function analyzeDocuments(
  documents: LoadedDocument[],
  parseErrors: Diagnostic[],
  options: AnalyzeOptions = {},
): AnalyzeResult {
  const messages: AnalysisMessage[] = parseErrors.map(messageFromDiagnostic);
  const resources: AnyResource[] = [];
  const origins = new Map<AnyResource, string>();
  for (const doc of documents) {
    const v = validateDocument(doc, { defaultNamespace: options.namespace ?? "default" });
    messages.push(...v.errors.map(messageFromDiagnostic), ...v.warnings.map(messageFromDiagnostic));
    if (!v.resource) continue;
    resources.push(v.resource);
    const line = doc.lineOf([]);
    origins.set(v.resource, line ? `${doc.source}:${line}` : doc.source);
  }
  for (const m of analyze(resources, options.rootNamespace))
    messages.push({ ...m, origin: m.subject ? origins.get(m.subject) : undefined });
  return { messages: scoped(messages, options.namespace), resources };
}

/** Analyzes resources already stored (validated on apply), e.g. from the live cluster. Validation's
 *  warnings were shown at apply time; what Shoal does not implement, and Istio proxy annotations it
 *  ignores or cannot read, are reported again here. */
export function analyzeStored(resources: AnyResource[], options: AnalyzeOptions = {}): AnalysisMessage[] {
  const stored = resources.flatMap((r) =>
    [...notImplementedFindings(r), ...proxyAnnotationFindings(r)].map((f) =>
      messageAbout(
        r,
        f.severity === "error" ? "Error" : f.severity === "info" ? "Info" : "Warning",
        f.code ?? (f.severity === "error" ? "IST0106" : NOT_IMPLEMENTED_CODE),
        f.path.length > 0 ? `${formatPath(f.path)}: ${f.message}` : f.message,
      ),
    ),
  );
  return scoped([...stored, ...analyze(resources, options.rootNamespace)], options.namespace);
}

/** Keeps the messages about `namespace` (all when undefined), errors first, then by code and resource. */
function scoped(messages: AnalysisMessage[], namespace: string | undefined): AnalysisMessage[] {
  const inScope = namespace
    ? messages.filter((m) => m.resource.namespace === undefined || m.resource.namespace === namespace)
    : [...messages];
  inScope.sort(
    (a, b) =>
      LEVEL_ORDER[a.level] - LEVEL_ORDER[b.level] ||
      a.code.localeCompare(b.code) ||
      `${a.resource.kind}/${a.resource.namespace}/${a.resource.name}`.localeCompare(
        `${b.resource.kind}/${b.resource.namespace}/${b.resource.name}`,
      ),
  );
  return inScope;
}
