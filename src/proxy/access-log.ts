// Access log lines in Envoy's default text format (DESIGN.md §5), one per TCP connection when it ends.

export interface TcpLogEntry {
  start: Date;
  /** Envoy response flags (UF, UH, NR, …); empty when none. */
  flags: string[];
  /** %CONNECTION_TERMINATION_DETAILS%, e.g. rbac_access_denied_matched_policy[…]. */
  terminationDetails?: string | undefined;
  upstreamTransportFailure?: string | undefined;
  bytesReceived: number;
  bytesSent: number;
  durationMs: number;
  upstreamHost?: string | undefined;
  upstreamCluster?: string | undefined;
  upstreamLocal?: string | undefined;
  downstreamLocal?: string | undefined;
  downstreamRemote?: string | undefined;
  sni?: string | undefined;
}

const dash = (v: string | undefined): string => (v === undefined || v === "" ? "-" : v);
/** Quoted fields never contain a quote or a line break. */
const quoted = (v: string | undefined): string => `"${dash(v).replace(/["\r\n]/g, "'")}"`;
/** Unquoted fields never contain a space. */
const bare = (v: string | undefined): string => dash(v).replace(/\s/g, "_");

/** `ip:port`, with IPv6 in brackets and IPv4-mapped addresses shown as IPv4. */
export function hostPort(address: string | undefined, port: number | undefined): string | undefined {
  if (address === undefined || port === undefined) return undefined;
  const a = address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
  return a.includes(":") ? `[${a}]:${port}` : `${a}:${port}`;
}

/** One line, without the trailing newline. TCP: method/path/protocol `- - -`, response code 0. */
export function formatTcpLine(e: TcpLogEntry): string {
  return [
    `[${e.start.toISOString()}]`,
    '"- - -"',
    "0",
    e.flags.length > 0 ? e.flags.join(",") : "-",
    "-",
    bare(e.terminationDetails),
    quoted(e.upstreamTransportFailure),
    String(e.bytesReceived),
    String(e.bytesSent),
    String(Math.max(0, Math.round(e.durationMs))),
    "-",
    '"-"',
    '"-"',
    '"-"',
    '"-"',
    quoted(e.upstreamHost),
    bare(e.upstreamCluster),
    bare(e.upstreamLocal),
    bare(e.downstreamLocal),
    bare(e.downstreamRemote),
    bare(e.sni),
    "-",
  ].join(" ");
}
