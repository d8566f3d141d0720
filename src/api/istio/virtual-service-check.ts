// The rules Istio's validation applies to a VirtualService beyond its schema: hosts, gateways, that every
// route has somewhere to send traffic, destination weights, TLS SNI matches, redirects, exportTo.
import type { Finding } from "../kind.js";
import { exportToProblems, hostnameProblem, subsetNameProblem } from "../fields.js";
import { parseIp } from "../ip.js";
import { DNS_LABEL, DNS_SUBDOMAIN } from "../meta.js";
import type { Destination, HTTPRoute, StringMatch, VirtualService } from "./virtual-service.js";

type Path = Array<string | number>;

/** Checks a destination host (service name, FQDN or `*.` wildcard) and subset; shared with Sidecar. */
export function checkDestination(d: Destination, at: Path, out: Finding[]): void {
  if (d.host === "*") {
    out.push({
      severity: "error",
      path: [...at, "host"],
      message: `"*" is not a destination; name one service host`,
    });
  } else {
    const why = hostnameProblem(d.host);
    if (why) out.push({ severity: "error", path: [...at, "host"], message: why });
  }
  const subsetWhy = d.subset === undefined ? undefined : subsetNameProblem(d.subset);
  if (subsetWhy) out.push({ severity: "error", path: [...at, "subset"], message: subsetWhy });
}

/** Istio's gateway reference: `mesh`, `name` or `namespace/name`. */
function gatewayNameProblem(name: string): string | undefined {
  if (name === "mesh") return undefined;
  const parts = name.split("/");
  if (parts.length > 2) return `"${name}" must be a gateway name or namespace/name`;
  const [ns, gw] = parts.length === 2 ? parts : [undefined, parts[0]];
  if (ns !== undefined && !DNS_LABEL.test(ns)) return `"${name}": "${ns}" is not a namespace name`;
  if (!gw || !DNS_SUBDOMAIN.test(gw)) return `"${name}" is not a valid gateway name`;
  return undefined;
}

/** Istio matches regexes with RE2; this accepts RE2's inline flags and `(?P<name>` groups. */
function regexProblem(re: string): string | undefined {
  const js = re.replace(/^\(\?[imsU]+\)/, "").replace(/\(\?P</g, "(?<");
  try {
    new RegExp(js, "u");
    return undefined;
  } catch {
    return `"${re}" is not a valid regular expression`;
  }
}

function checkStringMatch(m: StringMatch | undefined, at: Path, out: Finding[]) {
  if (m?.regex === undefined) return;
  const why = regexProblem(m.regex);
  if (why) out.push({ severity: "error", path: [...at, "regex"], message: why });
}

/** Weighted destinations: weights are relative; several destinations all weighted 0 send nowhere. */
function checkWeights(route: ReadonlyArray<{ weight?: number | undefined }>, at: Path, out: Finding[]) {
  if (route.length < 2) return;
  const weighted = route.filter((r) => r.weight !== undefined);
  if (weighted.length === 0) return;
  const total = route.reduce((sum, r) => sum + (r.weight ?? 0), 0);
  if (total === 0) {
    out.push({
      severity: "error",
      path: at,
      message: "destination weights add up to 0: no destination would get traffic",
    });
  } else if (total !== 100) {
    // Istio since 1.15 treats weights as proportions and accepts any positive total; report, do not reject.
    out.push({
      severity: "warning",
      path: at,
      message: `destination weights add up to ${total}, not 100; traffic is split in proportion to them`,
    });
  }
}

function checkHttpRoute(r: HTTPRoute, at: Path, out: Finding[]) {
  const err = (p: Path, message: string) => out.push({ severity: "error", path: [...at, ...p], message });
  const hasRoute = (r.route?.length ?? 0) > 0;
  // Each HTTP route does exactly one thing: forward (route), redirect, answer (directResponse) or delegate.
  const actions = [
    hasRoute && "route",
    r.redirect && "redirect",
    r.directResponse && "directResponse",
    r.delegate && "delegate",
  ].filter((a): a is string => typeof a === "string");
  if (actions.length === 0)
    err([], "has nowhere to send requests: set route, redirect, directResponse or delegate");
  else if (actions.length > 1)
    err([actions[1]!], `cannot be combined with ${actions[0]} in the same http route`);
  if (r.redirect) {
    if (r.fault) err(["fault"], "cannot be combined with redirect");
    if (r.rewrite) err(["rewrite"], "cannot be combined with redirect");
    const { uri, authority, port, scheme, redirectCode } = r.redirect;
    if (
      uri === undefined &&
      authority === undefined &&
      port === undefined &&
      scheme === undefined &&
      !r.redirect.derivePort
    )
      err(["redirect"], "must set at least one of uri, authority, scheme or port");
    if (redirectCode !== undefined && (redirectCode < 300 || redirectCode > 399))
      err(["redirect", "redirectCode"], `${redirectCode} is not a redirect status (300-399)`);
  }
  const status = r.directResponse?.status;
  if (status !== undefined && (status < 200 || status > 599))
    err(["directResponse", "status"], `${status} is not an HTTP status (200-599)`);
  const abort = r.fault?.abort;
  if (abort) {
    const kinds = [abort.httpStatus, abort.grpcStatus, abort.http2Error].filter((v) => v !== undefined);
    if (kinds.length !== 1)
      err(["fault", "abort"], "set exactly one of httpStatus, grpcStatus or http2Error");
    if (abort.httpStatus !== undefined && (abort.httpStatus < 200 || abort.httpStatus > 599))
      err(["fault", "abort", "httpStatus"], `${abort.httpStatus} is not an HTTP status (200-599)`);
  }
  const delay = r.fault?.delay;
  if (delay && (delay.fixedDelay === undefined) === (delay.exponentialDelay === undefined))
    err(["fault", "delay"], "set exactly one of fixedDelay or exponentialDelay");
  if (r.rewrite?.uri !== undefined && r.rewrite.uriRegexRewrite)
    err(["rewrite"], "set only one of uri or uriRegexRewrite");
  if (r.rewrite?.uriRegexRewrite?.match !== undefined) {
    const why = regexProblem(r.rewrite.uriRegexRewrite.match);
    if (why) err(["rewrite", "uriRegexRewrite", "match"], why);
  }
  if (r.mirror && r.mirrors)
    err(["mirrors"], "cannot be combined with mirror; list every mirror under mirrors");
  if (r.mirror) checkDestination(r.mirror, [...at, "mirror"], out);
  r.mirrors?.forEach((m, i) => checkDestination(m.destination, [...at, "mirrors", i, "destination"], out));
  r.match?.forEach((m, i) => {
    const mp = [...at, "match", i];
    for (const f of ["uri", "scheme", "method", "authority"] as const)
      checkStringMatch(m[f], [...mp, f], out);
    for (const f of ["headers", "queryParams", "withoutHeaders"] as const)
      for (const [k, v] of Object.entries(m[f] ?? {})) {
        if (k === "") err(["match", i, f], "names must not be empty");
        checkStringMatch(v, [...mp, f, k], out);
      }
    m.gateways?.forEach((g, j) => {
      const why = gatewayNameProblem(g);
      if (why) err(["match", i, "gateways", j], why);
    });
  });
  r.route?.forEach((d, i) => checkDestination(d.destination, [...at, "route", i, "destination"], out));
  if (r.route) checkWeights(r.route, [...at, "route"], out);
}

/** An SNI host must fall within one of the VirtualService's hosts (`*.example.com` covers `a.example.com`). */
function sniCovered(sni: string, hosts: readonly string[]): boolean {
  const s = sni.toLowerCase();
  return hosts.some((raw) => {
    const h = raw.toLowerCase();
    if (h === "*") return true;
    return h.startsWith("*") ? s.endsWith(h.slice(1)) : s === h;
  });
}

export function checkRoutes(vs: VirtualService): Finding[] {
  const out: Finding[] = [];
  const spec = vs.spec;
  const err = (path: Path, message: string) =>
    out.push({ severity: "error", path: ["spec", ...path], message });
  const hosts = spec.hosts ?? [];
  // A VirtualService without hosts is a delegate: only reachable from another one's http[].delegate.
  if (hosts.length === 0) {
    if (spec.gateways?.length)
      err(
        ["hosts"],
        "missing hosts (only a delegate VirtualService may omit them, and a delegate cannot set gateways)",
      );
    if (spec.tls?.length)
      err(
        ["hosts"],
        "missing hosts (only a delegate VirtualService may omit them, and a delegate cannot have tls routes)",
      );
    if (spec.tcp?.length)
      err(
        ["hosts"],
        "missing hosts (only a delegate VirtualService may omit them, and a delegate cannot have tcp routes)",
      );
  }
  // `gateways` empty means the mesh (sidecars); a list applies to sidecars only when it names `mesh`.
  const appliesToMesh = !spec.gateways?.length || spec.gateways.includes("mesh");
  hosts.forEach((h, i) => {
    if (h === "*" && appliesToMesh) {
      err(
        ["hosts", i],
        `"*" is not allowed for a VirtualService that applies to sidecars (gateways empty or "mesh")`,
      );
      return;
    }
    const why = parseIp(h) ? undefined : hostnameProblem(h);
    if (why) err(["hosts", i], why);
  });
  spec.gateways?.forEach((g, i) => {
    const why = gatewayNameProblem(g);
    if (why) err(["gateways", i], why);
  });
  if (!spec.http?.length && !spec.tls?.length && !spec.tcp?.length)
    err([], "has no routes: add at least one http, tls or tcp route");
  spec.http?.forEach((r, i) => checkHttpRoute(r, ["spec", "http", i], out));
  spec.tls?.forEach((r, i) => {
    if (!r.match?.length) err(["tls", i, "match"], "a tls route needs at least one match with sniHosts");
    r.match?.forEach((m, j) => {
      if (!m.sniHosts?.length) {
        err(
          ["tls", i, "match", j, "sniHosts"],
          "missing sniHosts: a tls match routes by SNI and needs at least one host",
        );
        return;
      }
      m.sniHosts.forEach((sni, k) => {
        const why = parseIp(sni) ? undefined : hostnameProblem(sni);
        if (why) err(["tls", i, "match", j, "sniHosts", k], why);
        else if (!sniCovered(sni, hosts))
          err(
            ["tls", i, "match", j, "sniHosts", k],
            `"${sni}" is not covered by any of the VirtualService hosts [${hosts.join(", ")}]`,
          );
      });
    });
    if (!r.route?.length)
      err(["tls", i, "route"], "missing route: a tls route needs at least one destination");
    r.route?.forEach((d, j) =>
      checkDestination(d.destination, ["spec", "tls", i, "route", j, "destination"], out),
    );
    if (r.route) checkWeights(r.route, ["spec", "tls", i, "route"], out);
  });
  spec.tcp?.forEach((r, i) => {
    if (!r.route?.length)
      err(["tcp", i, "route"], "missing route: a tcp route needs at least one destination");
    r.route?.forEach((d, j) =>
      checkDestination(d.destination, ["spec", "tcp", i, "route", j, "destination"], out),
    );
    if (r.route) checkWeights(r.route, ["spec", "tcp", i, "route"], out);
    r.match?.forEach((m, j) => {
      m.gateways?.forEach((g, k) => {
        const why = gatewayNameProblem(g);
        if (why) err(["tcp", i, "match", j, "gateways", k], why);
      });
    });
  });
  for (const p of exportToProblems(spec.exportTo ?? [], {
    namespace: vs.metadata.namespace ?? "default",
    allowNone: false,
  }))
    err(p.index === undefined ? ["exportTo"] : ["exportTo", p.index], p.message);
  return out;
}
