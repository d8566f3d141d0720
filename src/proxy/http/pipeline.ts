// The one request pipeline, for both HTTP versions: each direction's steps in order. A step is a small
// module with one function taking the exchange; adding a filter is adding it here.
//   inbound:  normalize → authorize → route → headers → forward
//   outbound: normalize → gateway authorize (gateway ports only) → route → fault (delay, abort) → cors → redirect / direct response → rewrite →
//             headers → forward (timeout, retries, mirrors)
// Every exchange ends in finish.ts (access log + metrics), through forward or a local reply.
import { authorize } from "./authorize.js";
import { cors } from "./cors.js";
import { direct } from "./direct.js";
import type { Direction, Step } from "./exchange.js";
import { faultAbort, faultDelay } from "./fault.js";
import { forward } from "./forward.js";
import { gatewayAuthorize } from "./gateway-authorize.js";
import { inboundHeaders, outboundHeaders } from "./headers.js";
import { normalize } from "./normalize.js";
import { rewrite } from "./rewrite.js";
import { inboundRoute, route } from "./route.js";

export const INBOUND_STEPS: readonly Step[] = [normalize, authorize, inboundRoute, inboundHeaders, forward];

export const OUTBOUND_STEPS: readonly Step[] = [
  normalize,
  gatewayAuthorize,
  route,
  faultDelay,
  faultAbort,
  cors,
  direct,
  rewrite,
  outboundHeaders,
  forward,
];

export function stepsFor(direction: Direction): readonly Step[] {
  return direction === "inbound" ? INBOUND_STEPS : OUTBOUND_STEPS;
}
