// Steps (outbound): VirtualService fault injection, as Envoy's fault filter does it. A delay holds the
// request for its time (flag `DI`) and then goes on; an abort answers locally (flag `FI`, body
// `fault filter abort`). Each applies to a request with its percent as a probability.
import type { Exchange } from "./exchange.js";
import { localReply } from "./local-reply.js";
import { run } from "./run.js";

/** True with probability percent/100. */
export function chance(percent: number): boolean {
  return percent >= 100 || (percent > 0 && Math.random() * 100 < percent);
}

function resume(x: Exchange): void {
  x.timer = undefined;
  if (!x.done) run(x);
}

export function faultDelay(x: Exchange): boolean {
  const d = x.route?.route.fault?.delay;
  if (!d || !chance(d.percent)) return true;
  x.entry.flags.push("DI");
  x.timer = setTimeout(resume, d.ms, x);
  return false;
}

/** Envoy's mapping of a gRPC status to the HTTP status of a non-gRPC caller's answer. */
const GRPC_TO_HTTP = [200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401];

export function faultAbort(x: Exchange): boolean {
  const a = x.route?.route.fault?.abort;
  if (!a || !chance(a.percent)) return true;
  const status = a.status ?? GRPC_TO_HTTP[a.grpcStatus ?? 2] ?? 500;
  return localReply(x, status, {
    flag: "FI",
    details: "fault_filter_abort",
    body: "fault filter abort",
    grpcStatus: a.grpcStatus,
  });
}
