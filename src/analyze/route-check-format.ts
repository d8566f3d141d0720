// Text output of `x route check`: the request, the listener and virtual host, each route tried (and the
// first condition that failed), the route taken with its clusters and weights, the policies on the route,
// and the endpoints of each cluster.
import type { RouteCheckResult, RouteOutcome } from "./route-check.js";

function ms(n: number): string {
  return n % 1000 === 0 ? `${n / 1000}s` : `${n}ms`;
}

function policies(r: RouteOutcome): string[] {
  const out: string[] = [];
  if (r.redirect) {
    const d = r.redirect;
    const parts = [
      d.scheme && `scheme ${d.scheme}`,
      d.authority && `authority ${d.authority}`,
      d.port && `port ${d.port}`,
      d.derivePort && `port ${d.derivePort}`,
      d.uri && `uri ${d.uri}`,
    ].filter(Boolean);
    out.push(`Redirect:  ${d.code} to ${parts.join(", ") || "the same URL"}`);
  }
  if (r.directResponse)
    out.push(
      `Direct response: ${r.directResponse.status}${r.directResponse.body !== undefined ? ` ${JSON.stringify(r.directResponse.body)}` : ""}`,
    );
  if (r.rewrite) {
    const w = r.rewrite;
    const parts = [
      w.uri !== undefined && `uri prefix → ${JSON.stringify(w.uri)}`,
      w.uriRegex && `uri /${w.uriRegex.match}/ → ${JSON.stringify(w.uriRegex.rewrite)}`,
      w.authority && `authority → ${w.authority}`,
    ].filter(Boolean);
    out.push(`Rewrite:   ${parts.join(", ")}`);
  }
  if (r.kind === "http") out.push(`Timeout:   ${r.timeoutMs ? ms(r.timeoutMs) : "none"}`);
  if (r.retries) {
    const t = r.retries;
    out.push(
      `Retries:   ${t.attempts}${t.perTryTimeoutMs !== undefined ? `, ${ms(t.perTryTimeoutMs)} per try` : ""}${t.retryOn.length ? ` on ${t.retryOn.join(",")}` : ""}`,
    );
  } else if (r.kind === "http") out.push("Retries:   none");
  if (r.fault?.delay)
    out.push(`Fault:     delay ${ms(r.fault.delay.ms)} for ${r.fault.delay.percent}% of requests`);
  if (r.fault?.abort) {
    const a = r.fault.abort;
    const what = a.status !== undefined ? `HTTP ${a.status}` : `gRPC status ${a.grpcStatus}`;
    out.push(`Fault:     abort with ${what} for ${a.percent}% of requests`);
  }
  for (const m of r.mirrors) out.push(`Mirror:    ${m.cluster} (${m.percent}% of requests)`);
  if (r.headers) {
    for (const [side, ops] of [
      ["request", r.headers.request],
      ["response", r.headers.response],
    ] as const) {
      if (!ops) continue;
      const parts = [
        ...Object.entries(ops.set).map(([k, v]) => `set ${k}: ${v}`),
        ...Object.entries(ops.add).map(([k, v]) => `add ${k}: ${v}`),
        ...ops.remove.map((k) => `remove ${k}`),
      ];
      if (parts.length) out.push(`Headers:   ${side}: ${parts.join("; ")}`);
    }
  }
  if (r.cors)
    out.push(
      `CORS:      origins ${r.cors.allowOrigins.map((o) => o.exact ?? o.prefix ?? o.regex).join(", ")}`,
    );
  return out;
}

export function formatRouteCheck(r: RouteCheckResult): string {
  const lines: string[] = [];
  const q = r.request;
  const from = `${r.source.pod}.${r.source.namespace}`;
  const http = r.listener?.protocol === "http" || r.listener?.protocol === "http2";
  lines.push(
    http
      ? `Request:   ${q.method} ${q.authority}${q.path}${q.query ? `?${q.query}` : ""} from ${from}`
      : `Connection: to ${r.destination.host}:${q.port} from ${from}`,
  );
  lines.push(
    `Destination: ${r.destination.host} → ${r.destination.address}:${q.port} (${r.destination.resolvedBy})`,
  );
  if (!r.source.hasSidecar)
    lines.push("Note:      the source pod has no sidecar: the mesh does not route its traffic");
  if (!r.listener)
    lines.push(`Listener:  none for ${r.destination.address}:${q.port} (outbound default applies)`);
  else lines.push(`Listener:  ${r.listener.name} (${r.listener.protocol})`);
  if (http) {
    lines.push(`Virtual host: ${r.virtualHost ?? `none for Host "${q.authority}"`}`);
    for (const v of r.routes) {
      if (v.matched) lines.push(`  ✔ route ${JSON.stringify(v.name)} matched`);
      else {
        const why = v.failed.map((f, i) => (v.failed.length > 1 ? `match #${i}: ${f}` : f)).join("; ");
        lines.push(`  ✘ route ${JSON.stringify(v.name)}: ${why} does not hold`);
      }
    }
  }
  const route = r.route;
  if (!route) {
    lines.push("Route:     none matched: the request gets 404 (NR)");
    return `${lines.join("\n")}\n`;
  }
  if (route.kind === "http") lines.push(`Route:     ${JSON.stringify(route.name)} (match #${route.match})`);
  else if (route.kind === "default") lines.push("Route:     the outbound default for unknown destinations");
  else
    lines.push(
      `Route:     ${route.match === null ? `the listener's own cluster` : `${route.kind} route #${route.match}`}`,
    );
  if (route.clusters.length === 1) lines.push(`Cluster:   ${route.clusters[0]!.cluster}`);
  else if (route.clusters.length > 1) {
    lines.push("Clusters:");
    for (const c of route.clusters) lines.push(`  ${c.cluster}  weight ${c.weight} (${c.percent}%)`);
  }
  lines.push(...policies(route));
  for (const c of r.clusters) {
    const extras = [c.type, c.tls && `tls ${c.tls}`, c.loadBalancer && `lb ${c.loadBalancer}`].filter(
      Boolean,
    );
    lines.push(`Endpoints of ${c.name} (${extras.join(", ")}):`);
    if (c.endpoints.length === 0)
      lines.push(
        c.type === "BLACKHOLE" ? "  none: the connection is refused" : "  none: the request gets 503 (UH)",
      );
    if (c.type === "ORIGINAL_DST")
      lines.push(
        `  the original destination: ${r.destination.address === "0.0.0.0" ? `whatever ${r.destination.host} resolves to` : r.destination.address}, port ${q.port}`,
      );
    else for (const e of c.endpoints) lines.push(`  ${e.address}:${e.port}${e.pod ? `  ${e.pod}` : ""}`);
  }
  for (const n of r.notes) lines.push(`Note:      ${n}`);
  return `${lines.join("\n")}\n`;
}
