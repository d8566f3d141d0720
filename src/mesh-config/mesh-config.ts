// Istio's meshConfig, read: the document users write (under an IstioOperator's `spec.meshConfig`, in
// `--set meshConfig.X=V`, or in the `istio` ConfigMap's `mesh` key) checked field by field, every error
// and warning naming its field, and turned into the MeshConfig translation reads. Fields Shoal stores but
// does not act on are warned about by name, never accepted silently. Pure.
import { PATH_NORMALIZATIONS } from "../policy/path.js";
import type { PathNormalization } from "../policy/path.js";
import { unsupportedOperators } from "../proxy/access-log-format.js";
import type { MeshConfig } from "../translate/snapshot-types.js";
import { DEFAULT_MESH_CONFIG } from "../translate/snapshot-types.js";

export type MeshDocument = Record<string, unknown>;
const isRecord = (v: unknown): v is MeshDocument => typeof v === "object" && v !== null && !Array.isArray(v);

export interface MeshRead {
  mesh: MeshConfig;
  /** The document with Shoal's defaults filled in, in Istio's field names (what `x mesh-config` prints). */
  document: MeshDocument;
  errors: string[];
  warnings: string[];
}

/** The settings Shoal's default mesh has, as a document. */
export function defaultDocument(): MeshDocument {
  const d = DEFAULT_MESH_CONFIG;
  return {
    rootNamespace: d.rootNamespace,
    trustDomain: d.trustDomain,
    trustDomainAliases: [],
    outboundTrafficPolicy: { mode: d.outboundTrafficPolicy },
    pathNormalization: { normalization: d.pathNormalization },
    accessLogFile: d.accessLogFile,
    accessLogEncoding: d.accessLogEncoding,
    accessLogFormat: d.accessLogFormat,
    enableAutoMtls: true,
  };
}

/** Deep merge as istioctl overlays: mappings merge key by key, anything else (lists too) replaces. */
export function mergeDocuments(base: MeshDocument, over: MeshDocument): MeshDocument {
  const out: MeshDocument = { ...base };
  for (const [k, v] of Object.entries(over))
    out[k] = isRecord(v) && isRecord(out[k]) ? mergeDocuments(out[k] as MeshDocument, v) : v;
  return out;
}

/** Istio meshConfig fields Shoal knows of but does not implement: stored, warned about, ignored. */
const NOT_IMPLEMENTED = new Set([
  "accessLogFilter",
  "enableTracing",
  "enableEnvoyAccessLogService",
  "enablePrometheusMerge",
  "defaultProviders",
  "extensionProviders",
  "localityLbSetting",
  "connectTimeout",
  "protocolDetectionTimeout",
  "tcpKeepalive",
  "ingressClass",
  "ingressService",
  "ingressControllerMode",
  "ingressSelector",
  "inboundTrafficPolicy",
  "h2UpgradePolicy",
  "dnsRefreshRate",
  "defaultServiceExportTo",
  "defaultVirtualServiceExportTo",
  "defaultDestinationRuleExportTo",
  "serviceSettings",
  "caCertificates",
  "certificates",
  "discoverySelectors",
  "meshNetworks",
  "outboundClusterStatName",
  "inboundClusterStatName",
  "verifyCertificateAtClient",
  "proxyListenPort",
  "proxyInboundListenPort",
  "proxyHttpPort",
  "statsdUdpAddress",
  "configSources",
  "thriftConfig",
  "meshMTLS",
  "tlsDefaults",
]);

/** `defaultConfig` (ProxyConfig) fields users commonly set; Shoal's proxy does not act on them yet. */
const PROXY_DEFAULTS_KNOWN = new Set([
  "holdApplicationUntilProxyStarts",
  "proxyMetadata",
  "drainDuration",
  "terminationDrainDuration",
  "parentShutdownDuration",
  "discoveryAddress",
  "tracing",
  "proxyStatsMatcher",
  "gatewayTopology",
  "image",
]);

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A SPIFFE trust domain: lower-case letters, digits, `.`, `-`, `_`. */
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
const DURATION = /^\d+(\.\d+)?(ns|us|µs|ms|s|m|h)$/;

function oneOf<T extends string>(
  v: unknown,
  allowed: readonly T[],
  field: string,
  errors: string[],
  fallback: T,
): T {
  if (typeof v === "string" && (allowed as readonly string[]).includes(v)) return v as T;
  errors.push(`${field}: ${JSON.stringify(v)} is not one of ${allowed.join(", ")}`);
  return fallback;
}

function str(v: unknown, field: string, errors: string[], fallback: string): string {
  if (typeof v === "string") return v;
  errors.push(`${field}: ${JSON.stringify(v)} is not a string`);
  return fallback;
}

function readDefaultConfig(v: unknown, at: string, errors: string[], warnings: string[]): void {
  if (!isRecord(v)) return void errors.push(`${at}: must be a mapping`);
  for (const [k, val] of Object.entries(v)) {
    const f = `${at}.${k}`;
    if (k === "holdApplicationUntilProxyStarts" && typeof val !== "boolean")
      errors.push(`${f}: ${JSON.stringify(val)} is not a boolean`);
    // Shoal's pods always start the application once the sidecar is ready (the runtime's start order),
    // which is what `true` asks for; only `false` asks for something Shoal does not do.
    else if (k === "holdApplicationUntilProxyStarts" && val === true) continue;
    else if (k === "holdApplicationUntilProxyStarts")
      warnings.push(
        `${f}: false is not honoured; Shoal always starts the application after its proxy is ready`,
      );
    else if (
      (k === "drainDuration" || k === "terminationDrainDuration" || k === "parentShutdownDuration") &&
      !(typeof val === "string" && DURATION.test(val))
    )
      errors.push(`${f}: ${JSON.stringify(val)} is not a duration (e.g. 5s)`);
    else if (k === "concurrency" && !(typeof val === "number" && Number.isInteger(val) && val >= 0))
      errors.push(`${f}: ${JSON.stringify(val)} is not a non-negative integer`);
    // Sidecars stay one small process: the value sets gateway proxies' worker processes only.
    else if (k === "concurrency")
      warnings.push(
        `${f}: applies to gateways only (${val === 0 ? "one worker process per CPU" : `${val} worker process${val === 1 ? "" : "es"}`}); sidecars stay one process`,
      );
    else if (
      k === "proxyMetadata" &&
      !(isRecord(val) && Object.values(val).every((x) => typeof x === "string"))
    )
      errors.push(`${f}: must be a mapping of strings`);
    else if (PROXY_DEFAULTS_KNOWN.has(k))
      warnings.push(`${f}: stored but not acted on by Shoal's proxy yet; ignored`);
    else warnings.push(`${f}: not a proxy setting Shoal knows; ignored`);
  }
}

/** Reads a meshConfig document (merged over Shoal's defaults); `at` prefixes every field path. */
export function readMeshConfig(raw: unknown, at = "meshConfig"): MeshRead {
  const errors: string[] = [];
  const warnings: string[] = [];
  const given: MeshDocument = raw === undefined || raw === null ? {} : isRecord(raw) ? raw : {};
  if (raw !== undefined && raw !== null && !isRecord(raw)) errors.push(`${at}: must be a mapping`);
  const doc = mergeDocuments(defaultDocument(), given);
  const d = DEFAULT_MESH_CONFIG;

  const rootNamespace = str(doc["rootNamespace"], `${at}.rootNamespace`, errors, d.rootNamespace);
  if (!DNS1123_LABEL.test(rootNamespace) || rootNamespace.length > 63)
    errors.push(`${at}.rootNamespace: "${rootNamespace}" is not a valid namespace name`);
  const trustDomain = str(doc["trustDomain"], `${at}.trustDomain`, errors, d.trustDomain);
  if (!TRUST_DOMAIN.test(trustDomain))
    errors.push(`${at}.trustDomain: "${trustDomain}" is not a valid trust domain (a-z, 0-9, ".", "-", "_")`);
  const aliasesRaw = doc["trustDomainAliases"];
  const trustDomainAliases: string[] = [];
  if (!Array.isArray(aliasesRaw)) errors.push(`${at}.trustDomainAliases: must be a list`);
  else
    aliasesRaw.forEach((a, i) => {
      if (typeof a === "string" && TRUST_DOMAIN.test(a)) trustDomainAliases.push(a);
      else errors.push(`${at}.trustDomainAliases[${i}]: ${JSON.stringify(a)} is not a valid trust domain`);
    });

  const otp = doc["outboundTrafficPolicy"];
  const outboundTrafficPolicy = isRecord(otp)
    ? oneOf(
        otp["mode"],
        ["ALLOW_ANY", "REGISTRY_ONLY"] as const,
        `${at}.outboundTrafficPolicy.mode`,
        errors,
        "ALLOW_ANY",
      )
    : (errors.push(`${at}.outboundTrafficPolicy: must be a mapping with mode`), d.outboundTrafficPolicy);
  if (isRecord(otp))
    for (const k of Object.keys(otp))
      if (k !== "mode") warnings.push(`${at}.outboundTrafficPolicy.${k}: not implemented by Shoal; ignored`);

  const pn = doc["pathNormalization"];
  const pathNormalization: PathNormalization = isRecord(pn)
    ? oneOf(pn["normalization"], PATH_NORMALIZATIONS, `${at}.pathNormalization.normalization`, errors, "BASE")
    : (errors.push(`${at}.pathNormalization: must be a mapping with normalization`), "BASE");
  if (isRecord(pn))
    for (const k of Object.keys(pn))
      if (k !== "normalization")
        warnings.push(`${at}.pathNormalization.${k}: not a field of pathNormalization; ignored`);

  const accessLogFile = str(doc["accessLogFile"], `${at}.accessLogFile`, errors, "/dev/stdout");
  // Shoal's proxies log to their stdout (`shoal logs POD -c istio-proxy`); a file path is not written.
  if (accessLogFile !== "" && accessLogFile !== "/dev/stdout")
    warnings.push(
      `${at}.accessLogFile: "${accessLogFile}" is not supported (only /dev/stdout, or "" for no access log); the proxies log to /dev/stdout`,
    );
  const accessLogEncoding = oneOf(
    doc["accessLogEncoding"],
    ["TEXT", "JSON"] as const,
    `${at}.accessLogEncoding`,
    errors,
    "TEXT",
  );
  const accessLogFormat = str(doc["accessLogFormat"], `${at}.accessLogFormat`, errors, "");
  if (accessLogFormat.trim() !== "") {
    if (accessLogEncoding === "JSON") {
      try {
        const parsed = JSON.parse(accessLogFormat) as unknown;
        if (!isRecord(parsed)) throw new Error("not an object");
      } catch {
        errors.push(
          `${at}.accessLogFormat: with accessLogEncoding JSON it must be a JSON object of key → format`,
        );
      }
    }
    const unknown = unsupportedOperators(accessLogFormat);
    if (unknown.length > 0)
      warnings.push(
        `${at}.accessLogFormat: ${unknown.map((u) => `%${u}%`).join(", ")} not filled in by Shoal (printed as "-")`,
      );
  }

  if (doc["defaultConfig"] !== undefined)
    readDefaultConfig(doc["defaultConfig"], `${at}.defaultConfig`, errors, warnings);
  if (doc["enableAutoMtls"] === false)
    warnings.push(`${at}.enableAutoMtls: false is not implemented by Shoal (auto mTLS stays on); ignored`);
  const handled = new Set([
    "rootNamespace",
    "trustDomain",
    "trustDomainAliases",
    "outboundTrafficPolicy",
    "pathNormalization",
    "accessLogFile",
    "accessLogEncoding",
    "accessLogFormat",
    "defaultConfig",
    "enableAutoMtls",
  ]);
  for (const k of Object.keys(given)) {
    if (handled.has(k)) continue;
    warnings.push(
      NOT_IMPLEMENTED.has(k)
        ? `${at}.${k}: not implemented by Shoal; ignored`
        : `${at}.${k}: not a meshConfig field Shoal knows; ignored`,
    );
  }
  const mesh: MeshConfig = {
    rootNamespace,
    trustDomain,
    trustDomainAliases,
    outboundTrafficPolicy,
    pathNormalization,
    accessLogFile: accessLogFile === "" ? "" : "/dev/stdout",
    accessLogEncoding,
    accessLogFormat,
  };
  return { mesh, document: doc, errors, warnings };
}
