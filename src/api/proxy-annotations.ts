// Istio's proxy annotations on a pod (or a Deployment's pod template), read (pure): the
// `proxy.istio.io/config` ProxyConfig fragment Shoal acts on (`concurrency` for gateways) and a finding for
// every `sidecar.istio.io/*`, `traffic.sidecar.istio.io/*` and `proxy.istio.io/*` annotation or fragment
// field Shoal does not act on, so nothing is accepted silently. A fragment that cannot be read is an error.
// Also Istio's tunnel label: a value other than `http` turns nothing on, and says so.
import { parse } from "yaml";
import { TEMPLATES_ANNOTATION, isGatewayProxy, wantsGatewayTemplate } from "../inject/gateway.js";
import { INJECT_KEY } from "../inject/policy.js";
import type { PodTemplateLike } from "../inject/sidecar.js";
import { CAPTURE_ANNOTATIONS, INTERCEPTION_MODE_ANNOTATION, STATUS_ANNOTATION } from "../inject/sidecar.js";
import type { Finding } from "./kind.js";
import type { AnyResource } from "./meta.js";
import { NOT_IMPLEMENTED_CODE } from "./not-implemented.js";
import { TUNNEL_HTTP, TUNNEL_LABEL } from "./tunnel-label.js";

/** Istio's per-pod override of the mesh's `defaultConfig` (a ProxyConfig fragment, YAML or JSON). */
export const PROXY_CONFIG_ANNOTATION = "proxy.istio.io/config";

/** The annotations under Istio's proxy prefixes that Shoal acts on. */
const ACTED_ON = new Set<string>([
  INJECT_KEY,
  STATUS_ANNOTATION,
  INTERCEPTION_MODE_ANNOTATION,
  TEMPLATES_ANNOTATION,
  PROXY_CONFIG_ANNOTATION,
  ...Object.values(CAPTURE_ANNOTATIONS),
]);
const PROXY_PREFIXES = ["sidecar.istio.io/", "traffic.sidecar.istio.io/", "proxy.istio.io/"];

/** What happens instead, for the ignored annotations users set most; others get the plain reason. */
const RESOURCES = "the local cluster sets no CPU or memory requests or limits on the proxy";
const STATS = "the proxy keeps all its statistics, unfiltered";
const LOG_LEVEL = "the proxy's log level is fixed";
const INSTEAD: Record<string, string> = {
  "sidecar.istio.io/proxyCPU": RESOURCES,
  "sidecar.istio.io/proxyCPULimit": RESOURCES,
  "sidecar.istio.io/proxyMemory": RESOURCES,
  "sidecar.istio.io/proxyMemoryLimit": RESOURCES,
  "sidecar.istio.io/proxyImage": "the proxy is always Shoal's own",
  "sidecar.istio.io/statsInclusionPrefixes": STATS,
  "sidecar.istio.io/statsInclusionSuffixes": STATS,
  "sidecar.istio.io/statsInclusionRegexps": STATS,
  "sidecar.istio.io/logLevel": LOG_LEVEL,
  "sidecar.istio.io/componentLogLevel": LOG_LEVEL,
  "sidecar.istio.io/agentLogLevel": LOG_LEVEL,
};

export interface ProxyConfigFragment {
  /** Absent when the fragment does not set it (or cannot be read). */
  concurrency?: number | undefined;
  /** Why the fragment cannot be read (not YAML/JSON, not a mapping, a bad value); absent when it can. */
  error?: string | undefined;
  /** One line per field Shoal stores but does not act on. */
  ignored: string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The parser's first line, without a trailing colon (the source excerpt it introduces is left out). */
const firstLine = (err: unknown) => ((err as Error).message.split("\n")[0] ?? "").replace(/:\s*$/, "");

/** Reads a `proxy.istio.io/config` value. */
export function readProxyConfigAnnotation(text: string): ProxyConfigFragment {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    return { error: `not YAML or JSON: ${firstLine(err)}`, ignored: [] };
  }
  if (doc === null || doc === undefined) return { ignored: [] };
  if (!isRecord(doc)) return { error: "must be a mapping of ProxyConfig fields", ignored: [] };
  const ignored: string[] = [];
  let concurrency: number | undefined;
  for (const [k, v] of Object.entries(doc)) {
    if (k === "concurrency") {
      if (!(typeof v === "number" && Number.isInteger(v) && v >= 0))
        return { error: `concurrency: ${JSON.stringify(v)} is not a non-negative integer`, ignored: [] };
      concurrency = v;
    } else if (k === "holdApplicationUntilProxyStarts") {
      if (typeof v !== "boolean")
        return {
          error: `holdApplicationUntilProxyStarts: ${JSON.stringify(v)} is not a boolean`,
          ignored: [],
        };
      // Shoal's pods always start the application once the proxy is ready: what `true` asks for.
      if (!v)
        ignored.push(
          `${k}: false is not honoured; Shoal always starts the application after its proxy is ready`,
        );
    } else ignored.push(`${k}: not acted on by Shoal's proxy; ignored`);
  }
  return { concurrency, ignored };
}

/** The pod template a resource carries, with the path to it (Pod: itself; Deployment: spec.template). */
function podTemplateOf(resource: AnyResource): { template: PodTemplateLike; at: string[] } | undefined {
  if (resource.kind === "Pod") return { template: resource as unknown as PodTemplateLike, at: [] };
  if (resource.kind === "Deployment") {
    const t = (resource["spec"] as { template?: unknown } | undefined)?.template;
    if (isRecord(t)) return { template: t as PodTemplateLike, at: ["spec", "template"] };
  }
  return undefined;
}

/** True when the template runs its proxy as a gateway (asks for the gateway template, or was injected so). */
export function isGatewayTemplate(template: PodTemplateLike): boolean {
  return wantsGatewayTemplate(template) || isGatewayProxy(template.spec);
}

/** Errors and warnings for Istio's proxy annotations on a Pod or a Deployment's pod template. */
export function proxyAnnotationFindings(resource: AnyResource): Finding[] {
  const found = podTemplateOf(resource);
  if (!found) return [];
  const out: Finding[] = [];
  const tunnel = found.template.metadata?.labels?.[TUNNEL_LABEL];
  // Istio: only `networking.istio.io/tunnel: http` marks a workload that accepts HBONE.
  if (tunnel !== undefined && tunnel !== TUNNEL_HTTP)
    out.push({
      severity: "warning",
      code: NOT_IMPLEMENTED_CODE,
      path: [...found.at, "metadata", "labels", TUNNEL_LABEL],
      message: `not implemented: ${JSON.stringify(tunnel)} is not a tunnel protocol; only "${TUNNEL_HTTP}" makes the pod accept tunneled connections; ignored`,
    });
  const annotations = found.template.metadata?.annotations;
  if (!isRecord(annotations)) return out;
  for (const [key, value] of Object.entries(annotations)) {
    const path = [...found.at, "metadata", "annotations", key];
    if (!PROXY_PREFIXES.some((p) => key.startsWith(p))) continue;
    if (!ACTED_ON.has(key)) {
      out.push({
        severity: "warning",
        code: NOT_IMPLEMENTED_CODE,
        path,
        message: `not implemented: Shoal does not act on the annotation ${key}; ignored${INSTEAD[key] ? ` (${INSTEAD[key]})` : ""}`,
      });
      continue;
    }
    if (key !== PROXY_CONFIG_ANNOTATION) continue;
    const read = readProxyConfigAnnotation(typeof value === "string" ? value : String(value));
    if (read.error !== undefined) {
      out.push({ severity: "error", path, message: `annotation ${key}: ${read.error}` });
      continue;
    }
    for (const line of read.ignored)
      out.push({
        severity: "warning",
        code: NOT_IMPLEMENTED_CODE,
        path,
        message: `not implemented: ${line}`,
      });
    // Sidecars stay one small process: Shoal applies concurrency to gateway proxies only.
    if (read.concurrency !== undefined && !isGatewayTemplate(found.template))
      out.push({
        severity: "warning",
        code: NOT_IMPLEMENTED_CODE,
        path,
        message: "not implemented: concurrency applies to gateways only; a sidecar is one process",
      });
  }
  return out;
}
