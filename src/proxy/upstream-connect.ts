// Opens the connection to an upstream: plain TCP, or TLS as the endpoint's plan says (ISTIO_MUTUAL with
// the workload's current SecureContext, built once per certificate). The connect timeout covers the TCP
// connect and the TLS handshake.
import net from "node:net";
import type { Socket } from "node:net";
import tls from "node:tls";
import type { SecureContext } from "node:tls";
import type { SessionCache } from "./tls-sessions.js";
import type { TlsPlan } from "./upstream-tls.js";

export interface UpstreamTarget {
  address: string;
  port: number;
  tls: TlsPlan | undefined;
  /** The local address to connect from (inbound: 127.0.0.6); the kernel picks one when absent. */
  source?: string;
}

/** The pool key of a target: connections to the same endpoint from different sources are not shared. */
export function targetKey(target: UpstreamTarget): string {
  const t = target.tls;
  const plan = t ? `${t.mode}|${t.servername ?? ""}|${t.expectation}` : "plain";
  return `${target.address}|${target.port}|${plan}${target.source ? `|from ${target.source}` : ""}`;
}

export interface ConnectFailure {
  /** The Envoy response flag: UF (connect failure / timeout). */
  flag: "UF";
  /** %UPSTREAM_TRANSPORT_FAILURE_REASON%. */
  reason: string;
}

export function connectUpstream(
  target: UpstreamTarget,
  currentContext: () => SecureContext,
  timeoutMs: number,
  cb: (failure: ConnectFailure | undefined, socket: Socket) => void,
  sessions?: SessionCache,
): Socket {
  const plan = target.tls;
  let context: SecureContext | undefined;
  try {
    context = plan ? (plan.context ?? currentContext()) : undefined;
  } catch (err) {
    // No workload certificate (yet): the connection fails like any TLS setup failure.
    const dead = new net.Socket();
    dead.destroy();
    process.nextTick(cb, { flag: "UF", reason: `TLS_error:${(err as Error).message}` }, dead);
    return dead;
  }
  const from = target.source !== undefined ? { localAddress: target.source } : {};
  let socket: Socket;
  let sessionKey: string | undefined;
  if (plan === undefined || context === undefined) {
    socket = net.connect({ host: target.address, port: target.port, allowHalfOpen: true, ...from });
  } else {
    // tls.connect honours allowHalfOpen (passed to the TLSSocket) though its type doesn't list it.
    const options: tls.ConnectionOptions & { allowHalfOpen: boolean } = {
      host: target.address,
      port: target.port,
      allowHalfOpen: true,
      ...from,
      secureContext: context,
      rejectUnauthorized: true,
      ...(plan.servername !== undefined ? { servername: plan.servername } : {}),
      ...(plan.alpn ? { ALPNProtocols: plan.alpn } : {}),
      ...(plan.check ? { checkServerIdentity: plan.check } : {}),
    };
    // Node skips checkServerIdentity on a resumed session: resume only under the same expectation.
    sessionKey = sessions
      ? `${target.address}|${target.port}|${plan.servername ?? ""}|${plan.expectation}`
      : undefined;
    const session = sessionKey ? sessions?.get(sessionKey, context) : undefined;
    if (session) options.session = session;
    const tlsSocket = tls.connect(options);
    if (sessionKey) sessions?.watch(sessionKey, context, tlsSocket);
    socket = tlsSocket;
  }
  // Proxied bytes go out as they arrive; batching is the endpoints' business.
  socket.setNoDelay(true);
  let settled = false;
  const settle = (failure: ConnectFailure | undefined) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.removeListener("error", onError);
    socket.removeListener("close", onClose);
    if (failure) {
      if (sessionKey) sessions?.forget(sessionKey);
      socket.destroy();
    }
    cb(failure, socket);
  };
  const onError = (err: NodeJS.ErrnoException) =>
    settle({ flag: "UF", reason: `${plan ? "TLS_error" : "connect"}:${err.code ?? "ERROR"}:${err.message}` });
  const onClose = () => settle({ flag: "UF", reason: "connection closed during setup" });
  const timer = setTimeout(() => settle({ flag: "UF", reason: "connection timeout" }), timeoutMs);
  socket.once("error", onError);
  socket.once("close", onClose);
  socket.once(plan ? "secureConnect" : "connect", () => settle(undefined));
  return socket;
}
