// `shoal x route check`: offline what-if for routing. Where would this request from this pod go: which
// VirtualService route matched (and why earlier ones did not), which cluster, which endpoints, and the
// timeout/retries/fault/mirror/rewrite on the way. From manifests (-f) or the running cluster.
import { parseArgs } from "node:util";
import type { AnyResource } from "../../api/meta.js";
import type { RouteQuery, RouteSource } from "../../analyze/route-check.js";
import { RouteCheckError, checkRoute } from "../../analyze/route-check.js";
import { formatRouteCheck } from "../../analyze/route-check-format.js";
import { DaemonClient } from "../daemon-client.js";
import type { Command } from "../io.js";
import { UsageError } from "../io.js";
import { parseLabels, parseNameNs, parsePort, readResources } from "./what-if-input.js";

const USAGE = `Usage: shoal x route check [-f FILE|DIR ...] (--from POD.NS | --namespace NS --labels k=v,...)
         (URL | --host H --port N) [--method M] [-H 'name: value']... [--sni S] [-o json]

Routes one request the way the source pod's sidecar would, from the manifests given (or the running
cluster without -f), and explains it: listener, virtual host, each route tried and the first condition
that failed, the route taken, its clusters and weights, their endpoints, and the timeout, retries, fault,
mirror and rewrite that apply. TCP and TLS ports show the listener and its tcp/SNI route.
  --from POD.NS       a Pod, Deployment or app label in namespace NS (Deployments get simulated pods)
  --namespace/--labels  a client with these labels in NS instead
  URL                 http://HOST[:PORT]/PATH?QUERY (PORT defaults to 80, 443 for https)
  --host, --port      the destination without a URL (path: --path, default /)
  -H 'name: value'    a request header (repeatable); 'host: x' overrides the Host header
  -o json             a stable document: {source, request, destination, listener, virtualHost, routes,
                      route, clusters, notes}`;

/** The destination from a URL or --host/--port/--path. */
function destination(
  url: string | undefined,
  v: { host?: string | undefined; port?: string | undefined; path?: string | undefined },
): Pick<RouteQuery, "host" | "port" | "path" | "scheme"> {
  if (url !== undefined) {
    if (v.host !== undefined || v.port !== undefined)
      throw new UsageError("give a URL or --host/--port, not both");
    let u: URL;
    try {
      u = new URL(url.includes("://") ? url : `http://${url}`);
    } catch {
      throw new UsageError(`"${url}" is not a URL`);
    }
    const scheme = u.protocol.replace(/:$/, "");
    const port = u.port ? Number(u.port) : scheme === "https" ? 443 : 80;
    return { host: u.hostname.replace(/^\[|\]$/g, ""), port, path: `${u.pathname}${u.search}`, scheme };
  }
  if (v.host === undefined || v.port === undefined) throw new UsageError("give a URL, or --host and --port");
  return { host: v.host, port: parsePort(v.port), path: v.path ?? "/", scheme: "http" };
}

export const routeCheckCommand: Command = {
  path: ["x", "route", "check"],
  summary: "what-if: where would this request go, and which route decided",
  usage: USAGE,
  async run(args, io) {
    const { values: v, positionals } = parseArgs({
      args,
      options: {
        filename: { type: "string", short: "f", multiple: true },
        from: { type: "string" },
        namespace: { type: "string" },
        labels: { type: "string" },
        host: { type: "string" },
        port: { type: "string" },
        path: { type: "string" },
        method: { type: "string", short: "X" },
        header: { type: "string", short: "H", multiple: true },
        sni: { type: "string" },
        output: { type: "string", short: "o" },
      },
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length > 1) throw new UsageError(`one URL only, got ${positionals.length}`);
    if (v.output !== undefined && v.output !== "json")
      throw new UsageError(`unknown output format "${v.output}" (use json)`);
    let from: RouteSource;
    if (v.from) {
      const { name, namespace } = parseNameNs(v.from, "--from", "POD");
      from = { pod: name, namespace };
    } else if (v.namespace && v.labels) from = { namespace: v.namespace, labels: parseLabels(v.labels) };
    else throw new UsageError("give --from POD.NS, or --namespace NS with --labels k=v");
    const headers: Record<string, string> = {};
    for (const h of v.header ?? []) {
      const colon = h.indexOf(":");
      if (colon <= 0) throw new UsageError(`-H: "${h}" is not 'name: value'`);
      headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
    }
    const query: RouteQuery = {
      from,
      ...destination(positionals[0], v),
      method: v.method,
      headers,
      sni: v.sni,
    };
    if (v.path !== undefined && positionals[0] !== undefined)
      throw new UsageError("--path goes with --host/--port; a URL carries its own path");

    let resources: AnyResource[];
    if (v.filename?.length) {
      const read = await readResources(v.filename, io, from.namespace);
      if (!read) return 1;
      resources = read;
    } else resources = await new DaemonClient().list({});

    try {
      const result = checkRoute(resources, query);
      io.stdout(v.output === "json" ? `${JSON.stringify(result, null, 2)}\n` : formatRouteCheck(result));
      return 0;
    } catch (err) {
      if (err instanceof RouteCheckError) {
        io.stderr(`Error: ${err.message}\n`);
        return 1;
      }
      throw err;
    }
  },
};
