// The data behind `shoal proxy-status`: one row per proxy the push server knows, and the sync state
// derived the way istioctl derives it (SYNCED when the proxy ACKed what was last sent).

export type SyncState = "SYNCED" | "NOT SENT" | "STALE" | "NACK" | "DISCONNECTED";

export interface NackInfo {
  version: string;
  errors: string[];
  at: string;
}

export interface ProxyStatusRow {
  /** The node id the proxy sent in its hello. */
  id: string;
  podName: string;
  namespace: string;
  serviceAccount: string;
  /** Which cluster the proxy runs in (istioctl's CLUSTER column). */
  cluster: string;
  connected: boolean;
  connectedSince: string;
  disconnectedAt?: string;
  versionSent?: string;
  versionAcked?: string;
  lastNack?: NackInfo;
  /** Change notified (or proxy connected) → ACK of the config it produced, for the last ACKed push. */
  lastPushLatencyMs?: number;
  state: SyncState;
}

/** SYNCED: ACKed what was sent. NACK: rejected what was sent. STALE: sent, no answer yet. */
export function syncState(r: Omit<ProxyStatusRow, "state">): SyncState {
  if (!r.connected) return "DISCONNECTED";
  if (r.versionSent === undefined) return "NOT SENT";
  if (r.versionAcked === r.versionSent) return "SYNCED";
  if (r.lastNack?.version === r.versionSent) return "NACK";
  return "STALE";
}
