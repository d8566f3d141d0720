// Field schemas shared by several kinds: ports, addresses, label maps, non-empty string lists.
import { z } from "zod";
import { parseCidr, parseIp } from "./ip.js";

export const nonEmptyString = z.string({ error: "must be a string" }).min(1, "must not be an empty string");

/** A list of strings where every entry is non-empty. */
export const stringList = z.array(nonEmptyString, { error: "must be a list of strings" });

/** A port number 1..65535. */
export const portNumber = z
  .number({ error: "must be a number" })
  .int("must be a whole number")
  .min(1, "must be a port between 1 and 65535")
  .max(65535, "must be a port between 1 and 65535");

/** Ports written as strings, as AuthorizationPolicy `ports` are: each 1..65535. */
export const portStringList = z.array(
  z.string({ error: "must be a string" }).superRefine((s, ctx) => {
    const n = /^\d+$/.test(s) ? Number(s) : NaN;
    if (!(n >= 1 && n <= 65535)) ctx.addIssue({ code: "custom", message: `"${s}" is not a port` });
  }),
  { error: "must be a list of strings" },
);

export const ipAddress = z
  .string({ error: "must be a string" })
  .refine((s) => parseIp(s) !== undefined, { error: (iss) => `"${String(iss.input)}" is not an IP address` });

/** An IP address or a CIDR block. */
export const cidrList = z.array(
  z.string({ error: "must be a string" }).superRefine((s, ctx) => {
    if (parseCidr(s) === undefined)
      ctx.addIssue({ code: "custom", message: `"${s}" is not an IP address or CIDR block` });
  }),
  { error: "must be a list of strings" },
);

export const labelMap = z.record(z.string(), z.string({ error: "label values must be strings" }));

/** `{matchLabels: {...}}` as workload selectors use it. */
export const workloadSelector = z.strictObject({ matchLabels: labelMap.optional() });

/** Istio's `targetRef`: points a policy at a gateway or service instead of selecting workloads. */
export const policyTargetReference = z.strictObject({
  group: z.string().optional(),
  kind: nonEmptyString,
  name: nonEmptyString,
  namespace: z.string().optional(),
});

/** A whole number >= 0 (Istio's uint32/int32 counters and limits). */
export const nonNegativeInt = z
  .number({ error: "must be a number" })
  .int("must be a whole number")
  .min(0, "must not be negative");

/** Go-style durations as Istio's YAML writes them: `5s`, `1.5s`, `100ms`, `1h30m`. */
export const durationString = z
  .string({ error: 'must be a duration string such as "5s"' })
  .regex(/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/, 'must be a duration such as "5s", "100ms" or "1m"');

/** Istio's Percent message: `{value: 0..100}`. */
export const percentValue = z.strictObject({
  value: z
    .number({ error: "must be a number" })
    .min(0, "must be a percentage between 0 and 100")
    .max(100, "must be a percentage between 0 and 100"),
});

/** Istio's `{labels: {...}}` selector (Sidecar, DestinationRule, ServiceEntry). */
export const labelsSelector = z.strictObject({ labels: labelMap.optional() });

const DNS_LABEL_ANY_CASE = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;

/**
 * Why `name` is not a subset name, or undefined. Istio checks subset names with its own DNS-1123 label
 * test, which allows upper case: alphanumerics and '-', alphanumeric at both ends, at most 63 characters.
 */
export function subsetNameProblem(name: string): string | undefined {
  if (name === "") return "must not be empty";
  if (name.length > 63) return `"${name}" is not a valid subset name (longer than 63 characters)`;
  if (!DNS_LABEL_ANY_CASE.test(name))
    return `"${name}" is not a valid subset name (alphanumerics and '-', starting and ending alphanumeric)`;
  return undefined;
}

/**
 * Why `host` is not a DNS name Istio accepts, or undefined when it is. A wildcard is allowed only as
 * (the start of) the first label: `*`, `*.example.com`, `*foo.example.com`. A trailing dot is allowed.
 */
export function hostnameProblem(host: string, options: { wildcard?: boolean } = {}): string | undefined {
  const wildcard = options.wildcard ?? true;
  if (host === "") return "must not be empty";
  if (host.length > 255) return `"${host}" is longer than 255 characters`;
  const labels = (host.endsWith(".") ? host.slice(0, -1) : host).split(".");
  for (let i = 0; i < labels.length; i++) {
    let label = labels[i] ?? "";
    if (i === 0 && label.startsWith("*")) {
      if (!wildcard) return `"${host}" must be a fully qualified name without wildcards`;
      label = label.slice(1);
      if (label === "") continue;
    }
    if (label.length > 63 || !DNS_LABEL_ANY_CASE.test(label)) {
      return label.includes("*")
        ? `"${host}" is not a valid host: a wildcard is only allowed at the start of the first label`
        : `"${host}" is not a valid host name (label "${labels[i]}" is invalid)`;
    }
  }
  return undefined;
}

/**
 * Why a `namespace/dnsName` host (Sidecar egress, Gateway server) is wrong, or undefined. The namespace
 * part is `*`, `.`, a namespace name, or `~` where `allowNone` is set.
 */
export function namespacedHostProblem(host: string, options: { allowNone: boolean }): string | undefined {
  const slash = host.indexOf("/");
  if (slash < 0) return `"${host}" must be of the form namespace/dnsName (e.g. "./${host}" or "*/${host}")`;
  const ns = host.slice(0, slash);
  const name = host.slice(slash + 1);
  if (ns === "" || name === "") return `"${host}": namespace and dnsName must both be non-empty`;
  const nsOk =
    ns === "*" ||
    ns === "." ||
    (options.allowNone && ns === "~") ||
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns);
  if (!nsOk) return `"${host}": "${ns}" is not a namespace (use a namespace name, "." or "*")`;
  return hostnameProblem(name);
}

/**
 * Problems with an `exportTo` list, each with the index it concerns (undefined for the whole list):
 * entries are `.` (own namespace), `*` (everyone), a namespace name, or `~` (nobody, ServiceEntry only);
 * no duplicates; `*` and `~` must stand alone.
 */
export function exportToProblems(
  values: readonly string[],
  options: { namespace: string; allowNone: boolean },
): Array<{ index?: number; message: string }> {
  const out: Array<{ index?: number; message: string }> = [];
  const seen = new Set<string>();
  values.forEach((v, index) => {
    const key = v === "." ? options.namespace : v;
    if (seen.has(key)) {
      out.push({ index, message: `duplicate entry "${v}"${key !== v ? ` (same as namespace ${key})` : ""}` });
      return;
    }
    seen.add(key);
    if (v === "~" && !options.allowNone) {
      out.push({ index, message: `"~" (export to nobody) is only allowed in a ServiceEntry` });
    } else if (v !== "." && v !== "*" && v !== "~" && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(v)) {
      out.push({ index, message: `"${v}" must be ".", "*", "~" or a namespace name` });
    }
  });
  if (values.length > 1 && seen.has("*"))
    out.push({ message: `"*" exports to every namespace and cannot be combined with other entries` });
  if (values.length > 1 && seen.has("~"))
    out.push({ message: `"~" exports to nobody and cannot be combined with other entries` });
  return out;
}

/** Port protocols Istio's networking APIs accept (compared case-insensitively). */
export const ISTIO_PORT_PROTOCOLS = [
  "HTTP",
  "HTTPS",
  "HTTP2",
  "HTTP_PROXY",
  "GRPC",
  "GRPC-WEB",
  "TCP",
  "UDP",
  "TLS",
  "MONGO",
  "REDIS",
  "MYSQL",
] as const;

/** A port protocol name, any case (`HTTP`, `http`, `GRPC-Web`). */
export const istioPortProtocol = z
  .string({ error: "must be a string" })
  .refine((s) => (ISTIO_PORT_PROTOCOLS as readonly string[]).includes(s.toUpperCase()), {
    error: (iss) =>
      `"${String(iss.input)}" is not a protocol; expected one of ${ISTIO_PORT_PROTOCOLS.join(", ")}`,
  });

/** True for protocols whose traffic is TLS on the wire at the listener (HTTPS, TLS). */
export function isTlsProtocol(protocol: string | undefined): boolean {
  const p = (protocol ?? "").toUpperCase();
  return p === "HTTPS" || p === "TLS";
}

/** True for protocols that get HTTP handling (HTTP, HTTP2, GRPC, GRPC-WEB, HTTP_PROXY). */
export function isHttpFamilyProtocol(protocol: string | undefined): boolean {
  const p = (protocol ?? "").toUpperCase();
  return p === "HTTP" || p === "HTTP2" || p === "GRPC" || p === "GRPC-WEB" || p === "HTTP_PROXY";
}

/** A string that must be present, with `missing` as the message when it is not. */
export const requiredString = (missing: string) =>
  z.string({ error: (iss) => (iss.input === undefined ? missing : "must be a string") });

/** Error option for an object field that must be present: `z.strictObject(shape, requiredObject("..."))`. */
export const requiredObject = (missing: string) => ({
  error: (iss: { input?: unknown }) => (iss.input === undefined ? missing : "must be a mapping"),
});

/** An enum whose error lists the accepted values. */
export const enumField = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of ${values.join(", ")}` });
