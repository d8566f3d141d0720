// Builders for the policy tests: AuthorizationPolicy / PeerAuthentication objects and requests, inline.
import type { AuthorizationPolicySpec, AuthorizationPolicy } from "../api/istio/authorization-policy.js";
import type { PeerAuthentication, PeerAuthenticationSpec } from "../api/istio/peer-authentication.js";
import type { AuthzRequest, HttpAttributes } from "./authz-types.js";
import type { Workload } from "./workload.js";

export function authz(
  ns: string,
  name: string,
  spec: AuthorizationPolicySpec,
  annotations?: Record<string, string>,
): AuthorizationPolicy {
  return {
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    metadata: { name, namespace: ns, ...(annotations ? { annotations } : {}) },
    spec,
  };
}

export function peerAuthn(
  ns: string,
  name: string,
  spec: PeerAuthenticationSpec,
  creationTimestamp = "2026-01-01T00:00:00Z",
): PeerAuthentication {
  return {
    apiVersion: "security.istio.io/v1",
    kind: "PeerAuthentication",
    metadata: { name, namespace: ns, creationTimestamp },
    spec,
  };
}

export const FOO_TCP_ECHO: Workload = {
  namespace: "foo",
  labels: { app: "tcp-echo" },
  serviceAccount: "default",
};
export const CURL_FOO = "cluster.local/ns/foo/sa/curl";

export interface ReqInit {
  port?: number;
  principal?: string | undefined;
  sourceIp?: string;
  remoteIp?: string;
  destinationIp?: string;
  sni?: string;
  http?: Partial<HttpAttributes>;
}

/** A TCP connection to `port` (mTLS from foo/curl unless `principal: undefined` is given). */
export function tcpReq(port: number, init: ReqInit = {}): AuthzRequest {
  return build({ ...init, port }, "tcp");
}

/** An HTTP request (GET / on 8080 from foo/curl over mTLS unless overridden). */
export function httpReq(init: ReqInit = {}): AuthzRequest {
  return build(init, "http");
}

function build(init: ReqInit, protocol: "http" | "tcp"): AuthzRequest {
  const principal = "principal" in init ? init.principal : CURL_FOO;
  const req: AuthzRequest = {
    destination: {
      namespace: "foo",
      port: init.port ?? 8080,
      protocol,
      ip: init.destinationIp ?? "10.244.0.9",
    },
    source: { ip: init.sourceIp ?? "10.244.0.5" },
  };
  if (principal !== undefined) req.source.principal = principal;
  if (init.remoteIp) req.source.remoteIp = init.remoteIp;
  if (init.sni) req.sni = init.sni;
  if (protocol === "http") req.http = { method: "GET", host: "httpbin.foo:8000", path: "/", ...init.http };
  return req;
}
