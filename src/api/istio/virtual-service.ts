// VirtualService (networking.istio.io): routing rules for hosts. The schema covers Istio's whole API; the
// checks add the rules Istio's validation applies beyond field types (routes present, hosts, weights, SNI).
import { z } from "zod";
import type { Finding } from "../kind.js";
import { defineKind } from "../kind.js";
import {
  cidrList,
  enumField,
  requiredObject,
  requiredString,
  durationString,
  labelMap,
  nonEmptyString,
  nonNegativeInt,
  percentValue,
  portNumber,
  stringList,
} from "../fields.js";
import { parseCidr } from "../ip.js";
import { resourceSchema, stringMap } from "../meta.js";
import { checkRoutes } from "./virtual-service-check.js";

/** `{exact | prefix | regex}`: one way to match a string (empty matches presence, for headers). */
export const stringMatch = z
  .strictObject({ exact: z.string().optional(), prefix: z.string().optional(), regex: z.string().optional() })
  .superRefine((m, ctx) => {
    if (Object.keys(m).length > 1)
      ctx.addIssue({ code: "custom", message: "set only one of exact, prefix or regex" });
  });
export type StringMatch = z.infer<typeof stringMatch>;

const destinationShape = {
  host: requiredString("missing host: name the service to send traffic to"),
  subset: z.string().optional(),
  port: z.strictObject({ number: portNumber }).optional(),
};
/** Where traffic goes: a service host, optionally a DestinationRule subset and a port. */
export const destination = z.strictObject(destinationShape);
export type Destination = z.infer<typeof destination>;
const requiredDestination = z.strictObject(destinationShape, requiredObject("missing destination"));

const headerOperations = z.strictObject({
  set: stringMap.optional(),
  add: stringMap.optional(),
  remove: stringList.optional(),
});
export const headerManipulation = z.strictObject({
  request: headerOperations.optional(),
  response: headerOperations.optional(),
});

const httpRouteDestination = z.strictObject({
  destination: requiredDestination,
  weight: nonNegativeInt.optional(),
  headers: headerManipulation.optional(),
});
export type HTTPRouteDestination = z.infer<typeof httpRouteDestination>;

const routeDestination = z.strictObject({
  destination: requiredDestination,
  weight: nonNegativeInt.optional(),
});
export type RouteDestination = z.infer<typeof routeDestination>;

const stringMatchMap = z.record(z.string(), stringMatch, { error: "must be a mapping of name to match" });

const httpMatchRequest = z.strictObject({
  name: z.string().optional(),
  uri: stringMatch.optional(),
  scheme: stringMatch.optional(),
  method: stringMatch.optional(),
  authority: stringMatch.optional(),
  headers: stringMatchMap.optional(),
  port: portNumber.optional(),
  sourceLabels: labelMap.optional(),
  gateways: stringList.optional(),
  queryParams: stringMatchMap.optional(),
  ignoreUriCase: z.boolean().optional(),
  withoutHeaders: stringMatchMap.optional(),
  sourceNamespace: z.string().optional(),
  statPrefix: z.string().optional(),
});
export type HTTPMatchRequest = z.infer<typeof httpMatchRequest>;

const REDIRECT_DERIVE_PORT = ["FROM_PROTOCOL_DEFAULT", "FROM_REQUEST_PORT"] as const;
const httpRedirect = z.strictObject({
  uri: z.string().optional(),
  authority: z.string().optional(),
  port: portNumber.optional(),
  derivePort: enumField(REDIRECT_DERIVE_PORT).optional(),
  scheme: z.string().optional(),
  redirectCode: z.number({ error: "must be a number" }).int().optional(),
});

const httpDirectResponse = z.strictObject({
  status: z
    .number({ error: (iss) => (iss.input === undefined ? "missing status" : "must be a number") })
    .int(),
  body: z.strictObject({ string: z.string().optional(), bytes: z.string().optional() }).optional(),
});

const httpRewrite = z.strictObject({
  uri: z.string().optional(),
  authority: z.string().optional(),
  uriRegexRewrite: z
    .strictObject({ match: z.string().optional(), rewrite: z.string().optional() })
    .optional(),
});

const httpRetry = z.strictObject({
  attempts: nonNegativeInt.optional(),
  perTryTimeout: durationString.optional(),
  retryOn: z.string().optional(),
  retryRemoteLocalities: z.boolean().optional(),
  retryIgnorePreviousHosts: z.boolean().optional(),
  backoff: durationString.optional(),
});

const faultInjection = z.strictObject({
  delay: z
    .strictObject({
      fixedDelay: durationString.optional(),
      exponentialDelay: durationString.optional(),
      percentage: percentValue.optional(),
      percent: nonNegativeInt.max(100, "must be a percentage between 0 and 100").optional(),
    })
    .optional(),
  abort: z
    .strictObject({
      httpStatus: z.number({ error: "must be a number" }).int().optional(),
      grpcStatus: z.string().optional(),
      http2Error: z.string().optional(),
      percentage: percentValue.optional(),
    })
    .optional(),
});

const UNMATCHED_PREFLIGHTS = ["UNSPECIFIED", "FORWARD", "IGNORE"] as const;
const corsPolicy = z.strictObject({
  allowOrigin: stringList.optional(),
  allowOrigins: z.array(stringMatch, { error: "must be a list" }).optional(),
  allowMethods: stringList.optional(),
  allowHeaders: stringList.optional(),
  exposeHeaders: stringList.optional(),
  maxAge: durationString.optional(),
  allowCredentials: z.boolean().optional(),
  unmatchedPreflights: enumField(UNMATCHED_PREFLIGHTS).optional(),
});

const httpRoute = z.strictObject({
  name: z.string().optional(),
  match: z.array(httpMatchRequest, { error: "must be a list" }).optional(),
  route: z.array(httpRouteDestination, { error: "must be a list" }).optional(),
  redirect: httpRedirect.optional(),
  directResponse: httpDirectResponse.optional(),
  delegate: z.strictObject({ name: nonEmptyString, namespace: z.string().optional() }).optional(),
  rewrite: httpRewrite.optional(),
  timeout: durationString.optional(),
  retries: httpRetry.optional(),
  fault: faultInjection.optional(),
  mirror: destination.optional(),
  mirrors: z
    .array(z.strictObject({ destination: requiredDestination, percentage: percentValue.optional() }), {
      error: "must be a list",
    })
    .optional(),
  mirrorPercentage: percentValue.optional(),
  mirrorPercent: nonNegativeInt.optional(),
  corsPolicy: corsPolicy.optional(),
  headers: headerManipulation.optional(),
});
export type HTTPRoute = z.infer<typeof httpRoute>;

const tlsMatch = z.strictObject({
  sniHosts: stringList.optional(),
  destinationSubnets: cidrList.optional(),
  port: portNumber.optional(),
  sourceLabels: labelMap.optional(),
  gateways: stringList.optional(),
  sourceNamespace: z.string().optional(),
});
export type TLSMatchAttributes = z.infer<typeof tlsMatch>;

const l4Match = z.strictObject({
  destinationSubnets: cidrList.optional(),
  port: portNumber.optional(),
  sourceSubnet: z
    .string({ error: "must be a string" })
    .refine((v) => parseCidr(v) !== undefined, {
      error: (iss) => `"${String(iss.input)}" is not an IP address or CIDR block`,
    })
    .optional(),
  sourceLabels: labelMap.optional(),
  gateways: stringList.optional(),
  sourceNamespace: z.string().optional(),
});
export type L4MatchAttributes = z.infer<typeof l4Match>;

const tlsRoute = z.strictObject({
  match: z.array(tlsMatch, { error: "must be a list" }).optional(),
  route: z.array(routeDestination, { error: "must be a list" }).optional(),
});
export type TLSRoute = z.infer<typeof tlsRoute>;

const tcpRoute = z.strictObject({
  match: z.array(l4Match, { error: "must be a list" }).optional(),
  route: z.array(routeDestination, { error: "must be a list" }).optional(),
});
export type TCPRoute = z.infer<typeof tcpRoute>;

export const virtualServiceSpec = z.strictObject({
  hosts: stringList.optional(),
  gateways: stringList.optional(),
  http: z.array(httpRoute, { error: "must be a list" }).optional(),
  tls: z.array(tlsRoute, { error: "must be a list" }).optional(),
  tcp: z.array(tcpRoute, { error: "must be a list" }).optional(),
  exportTo: stringList.optional(),
});
export type VirtualServiceSpec = z.infer<typeof virtualServiceSpec>;

export const virtualServiceSchema = resourceSchema("VirtualService", virtualServiceSpec.default({}));
export type VirtualService = z.infer<typeof virtualServiceSchema>;

export function checkVirtualService(vs: VirtualService): Finding[] {
  return checkRoutes(vs);
}

export const virtualServiceKind = defineKind<VirtualService>({
  kind: "VirtualService",
  group: "networking.istio.io",
  versions: ["v1", "v1beta1", "v1alpha3"],
  namespaced: true,
  schema: virtualServiceSchema,
  check: checkVirtualService,
});
