// Per-request authorization for inbound HTTP chains: the config's HTTP rule set (every HTTP field:
// methods, paths, hosts, headers, request.* when keys), loaded once per config with the TCP one, and the
// request's attributes read from the request (either HTTP version) and its connection. Looked up per
// request, so a new policy applies to the next request on connections that are already open.
import type { AuthzIndex } from "../policy/authz-load.js";
import { evaluate } from "../policy/authz-evaluate.js";
import type { Decision } from "../policy/authz-types.js";
import type { RoutingTable } from "./routing-table.js";

/** The loaded authorization of the table's config. */
export function httpAuthzIndex(table: RoutingTable): AuthzIndex {
  return table.authz.index;
}

export interface HttpConnectionFacts {
  /** Original destination (the workload's target port and address). */
  port: number;
  destinationIp: string;
  /** Peer SPIFFE id without `spiffe://`; undefined for plaintext peers. */
  principal: string | undefined;
  sourceIp: string | undefined;
  sni: string | undefined;
}

/** Envoy (use_remote_address off, no trusted hops): the last X-Forwarded-For entry is the client. */
function forwardedClient(xff: string | string[] | undefined): string | undefined {
  if (xff === undefined) return undefined;
  const v = typeof xff === "string" ? xff : xff.join(",");
  const last = v.slice(v.lastIndexOf(",") + 1).trim();
  return last === "" ? undefined : last;
}

/** What authorization reads of a request (the path normalized, with its query). */
export interface HttpRequestView {
  method: string;
  host: string;
  path: string;
  /** The path without its query, normalized as the index normalizes (absent: the evaluator does it). */
  normalizedPath?: string | undefined;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

export function authorizeRequest(index: AuthzIndex, c: HttpConnectionFacts, req: HttpRequestView): Decision {
  // One object of one shape per request: absent facts are undefined, as the evaluator reads them.
  return evaluate(index, {
    destination: { port: c.port, protocol: "http", ip: c.destinationIp },
    source: {
      principal: c.principal || undefined,
      ip: c.sourceIp || undefined,
      remoteIp: forwardedClient(req.headers["x-forwarded-for"]),
    },
    sni: c.sni || undefined,
    http: {
      method: req.method,
      host: req.host,
      path: req.path,
      normalizedPath: req.normalizedPath,
      headers: req.headers as Record<string, string | string[]>,
    },
  });
}
