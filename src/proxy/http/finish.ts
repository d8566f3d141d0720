// The end of every exchange, exactly once: the access log line (flags in Envoy's canonical order) and
// the Istio request metrics, on the inbound side against the peer, on the outbound side against the
// cluster the request was routed to (no cluster, no metrics).
import { formatterFor } from "../access-log-format.js";
import { PEER_METADATA_HEADER, inboundGroup, outboundGroup } from "../metrics-labels.js";
import type { Exchange } from "./exchange.js";

/** Envoy prints response flags in the order of its flag table, whatever order they were set in. */
const FLAG_ORDER = ["UH", "UT", "UF", "UC", "UO", "NR", "DI", "FI", "DC", "URX", "NC"];

function sortFlags(flags: string[]): void {
  if (flags.length > 1) flags.sort((a, b) => FLAG_ORDER.indexOf(a) - FLAG_ORDER.indexOf(b));
}

/** `host:port` → `host` (a bracketed IPv6 address keeps its brackets). */
function withoutPort(authority: string): string {
  const i = authority.lastIndexOf(":");
  if (i < 0 || i < authority.lastIndexOf("]")) return authority;
  for (let k = i + 1; k < authority.length; k++) {
    const c = authority.charCodeAt(k);
    if (c < 48 || c > 57) return authority;
  }
  return i + 1 < authority.length ? authority.slice(0, i) : authority;
}

export function finish(x: Exchange): void {
  if (x.done) return;
  x.done = true;
  if (x.timer) clearTimeout(x.timer);
  const entry = x.entry;
  entry.durationMs = performance.now() - x.t0;
  sortFlags(entry.flags);
  const table = x.table;
  // meshConfig access log: encoding, format, or off (accessLogFile "").
  const line = formatterFor(table?.config.mesh).http(entry);
  if (line !== undefined) x.rt.log(line);
  if (!table) return;
  const protocol = x.grpc ? "grpc" : "http";
  let g;
  if (x.direction === "inbound") {
    const c = x.conn?.inbound;
    if (!c) return;
    g = inboundGroup(x.rt.stats.mesh, table, {
      principal: c.principal,
      peerMetadata: c.principal ? (x.headers[PEER_METADATA_HEADER] as string | undefined) : undefined,
      host: x.authority === "" ? undefined : x.authority,
      protocol,
    });
  } else {
    if (!x.metricsCluster) return;
    g = outboundGroup(x.rt.stats.mesh, table, {
      cluster: x.metricsCluster,
      host: x.authority === "" ? undefined : withoutPort(x.authority),
      destinationPrincipal: x.destinationPrincipal,
      peerMetadata: x.peerMetadataIn,
      protocol,
    });
  }
  x.rt.stats.mesh.request(
    g,
    entry.code,
    entry.flags.length > 0 ? entry.flags.join(",") : "-",
    entry.durationMs,
    entry.bytesReceived,
    entry.bytesSent,
  );
}

/** The downstream went away: a complete response needs nothing more; otherwise whoever streams the
 *  response decides (forward.ts), and before that the exchange ends as `DC`. */
export function downstreamGone(x: Exchange, complete: boolean): void {
  if (x.done) return;
  if (x.onClose) return x.onClose(complete);
  if (complete) return;
  x.entry.flags.push("DC");
  x.entry.details = "downstream_remote_disconnect";
  finish(x);
}
