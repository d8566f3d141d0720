// Reads the proxies' access log lines (Envoy's default text format, DESIGN.md §5) back into records, for
// the mTLS report and the dashboard's log view. Lines that are not access log lines are skipped.

export interface AccessRecord {
  time: Date;
  method: string | undefined;
  path: string | undefined;
  /** 0 for TCP connections and requests that got no response. */
  code: number;
  flags: string;
  /** %RESPONSE_CODE_DETAILS% (HTTP) or %CONNECTION_TERMINATION_DETAILS% (TCP), when set. */
  details: string | undefined;
  durationMs: number;
  authority: string | undefined;
  upstreamCluster: string | undefined;
  downstreamLocal: string | undefined;
  downstreamRemote: string | undefined;
  sni: string | undefined;
  /** Received by the workload (inbound chain) rather than sent by it. */
  inbound: boolean;
  /** The line as the proxy wrote it. */
  line: string;
}

const TOKEN = /"[^"]*"|\S+/g;
const FIELDS = 22;

const value = (t: string | undefined): string | undefined => {
  if (t === undefined) return undefined;
  const v = t.startsWith('"') ? t.slice(1, -1) : t;
  return v === "-" || v === "" ? undefined : v;
};

/** The address part of `ip:port` / `[v6]:port`. */
export function addressOf(hostPort: string | undefined): string | undefined {
  if (!hostPort) return undefined;
  const v6 = /^\[([^\]]+)\]:\d+$/.exec(hostPort);
  if (v6) return v6[1];
  const i = hostPort.lastIndexOf(":");
  return i > 0 ? hostPort.slice(0, i) : hostPort;
}

/** Envoy names the inbound side's clusters `inbound|PORT||` and `InboundPassthroughCluster`. */
export function isInboundCluster(cluster: string | undefined): boolean {
  return cluster !== undefined && (cluster.startsWith("inbound|") || cluster === "InboundPassthroughCluster");
}

/**
 * On the inbound side, a connection the proxy terminated as mesh mTLS carries the SNI a client sidecar
 * sends (`outbound_.PORT_._.HOST`); a plaintext connection carries none.
 */
export function isMeshSni(sni: string | undefined): boolean {
  return sni !== undefined && sni.startsWith("outbound_.");
}

export function parseAccessLine(line: string): AccessRecord | undefined {
  if (!line.startsWith("[")) return undefined;
  const t = line.match(TOKEN);
  if (!t || t.length !== FIELDS) return undefined;
  const time = new Date((t[0] as string).slice(1, -1));
  if (Number.isNaN(time.getTime())) return undefined;
  const [method, path] = (value(t[1]) ?? "").split(" ");
  const upstreamCluster = value(t[16]);
  return {
    time,
    method: value(method),
    path: value(path),
    code: Number(t[2]) || 0,
    flags: value(t[3]) ?? "-",
    details: value(t[4]) ?? value(t[5]),
    durationMs: Number(t[9]) || 0,
    authority: value(t[14]),
    upstreamCluster,
    downstreamLocal: value(t[18]),
    downstreamRemote: value(t[19]),
    sni: value(t[20]),
    inbound: isInboundCluster(upstreamCluster),
    line,
  };
}

/** Whether a record is an authorization denial (Envoy's RBAC detail string). */
export function isDenial(r: AccessRecord): boolean {
  return r.details?.startsWith("rbac_access_denied") === true;
}

export function parseAccessLog(text: string): AccessRecord[] {
  const out: AccessRecord[] = [];
  for (const line of text.split("\n")) {
    const r = parseAccessLine(line.trimEnd());
    if (r) out.push(r);
  }
  return out;
}
