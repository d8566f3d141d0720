import assert from "node:assert/strict";
import { test } from "node:test";
import { analyzeDocuments, analyzeStored } from "../analyze/analyze.js";
import { formatMessage } from "../analyze/message.js";
import { validateApply } from "../controlplane/apply.js";
import { formatDiagnostic } from "./diagnostic.js";
import { parseManifests } from "./load.js";
import type { AnyResource } from "./meta.js";
import { NOT_IMPLEMENTED, NOT_IMPLEMENTED_CODE, notImplementedFindings } from "./not-implemented.js";
import { validateDocument } from "./validate.js";

/** Validates one document; returns the not-implemented warnings as `Kind ns/name: path: message`. */
function warned(yaml: string): string[] {
  const [doc] = parseManifests(yaml, "t.yaml").documents;
  const r = validateDocument(doc!);
  assert.deepEqual(r.errors.map(formatDiagnostic), [], "the manifest itself is valid");
  return r.warnings
    .filter((w) => w.code === NOT_IMPLEMENTED_CODE)
    .map((w) => formatDiagnostic({ ...w, source: undefined, line: undefined }));
}

const vs = (spec: string) =>
  `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews, namespace: bookinfo}\nspec:\n${spec}`;
const dr = (spec: string) =>
  `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: reviews, namespace: bookinfo}\nspec:\n${spec}`;
const sidecar = (spec: string) =>
  `apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default, namespace: bookinfo}\nspec:\n${spec}`;

test("VirtualService: implemented fields get no warning", () => {
  assert.deepEqual(
    warned(
      vs(`  hosts: [reviews]
  gateways: [mesh]
  exportTo: ["."]
  http:
  - name: jason
    match:
    - headers: {end-user: {exact: jason}}
      uri: {prefix: /api}
      gateways: [mesh]
      sourceLabels: {app: productpage}
      queryParams: {v: {exact: "2"}}
      withoutHeaders: {x-debug: {}}
    route:
    - destination: {host: reviews, subset: v2}
      weight: 80
      headers: {request: {set: {x-v: "2"}}}
    - destination: {host: reviews, subset: v3}
      weight: 20
    timeout: 2s
    retries: {attempts: 3, perTryTimeout: 1s, retryOn: "5xx,connect-failure"}
    fault:
      delay: {fixedDelay: 1s, percentage: {value: 10}}
      abort: {httpStatus: 503, percentage: {value: 1}}
    mirror: {host: reviews, subset: v1}
    mirrorPercentage: {value: 5}
    corsPolicy: {allowOrigins: [{exact: "https://x.example"}], allowMethods: [GET]}
    rewrite: {uri: /}
    headers: {response: {remove: [server]}}
  - route:
    - destination: {host: reviews, subset: v1}
  tcp:
  - match: [{port: 9000, gateways: [mesh]}]
    route: [{destination: {host: reviews, port: {number: 9000}}}]
`),
    ),
    [],
  );
  assert.deepEqual(
    warned(
      vs(`  hosts: [reviews]
  tcp:
  - match: [{sourceSubnet: 10.244.0.0/16}]
    route: [{destination: {host: reviews, port: {number: 9000}}}]
`),
    ).map((line) => line.split(": not implemented")[0]),
    ["VirtualService bookinfo/reviews: spec.tcp[0].match[0].sourceSubnet"],
  );
});

test("VirtualService: gateways are served; the retry/fault/cors/stat fields Shoal lacks, warn", () => {
  assert.deepEqual(
    warned(
      vs(`  hosts: [reviews]
  gateways: [mesh, bookinfo/bookinfo-gateway]
  http:
  - match:
    - gateways: [mesh]
    - gateways: [my-gateway]
      statPrefix: jason
    route: [{destination: {host: reviews}}]
    retries: {attempts: 2, retryRemoteLocalities: true, retryIgnorePreviousHosts: true, backoff: 25ms}
    fault:
      delay: {exponentialDelay: 1s, percentage: {value: 10}}
      abort: {http2Error: REFUSED_STREAM}
    corsPolicy: {unmatchedPreflights: IGNORE}
`),
    ),
    [
      "VirtualService bookinfo/reviews: spec.http[0].retries.retryRemoteLocalities: not implemented: endpoints have no locality yet",
      "VirtualService bookinfo/reviews: spec.http[0].retries.retryIgnorePreviousHosts: not implemented: a retry may go to the endpoint that just failed",
      "VirtualService bookinfo/reviews: spec.http[0].retries.backoff: not implemented: retries are sent without a backoff interval",
      "VirtualService bookinfo/reviews: spec.http[0].fault.delay.exponentialDelay: not implemented: only fixedDelay is injected",
      "VirtualService bookinfo/reviews: spec.http[0].fault.abort.http2Error: not implemented: only httpStatus and grpcStatus aborts are injected",
      "VirtualService bookinfo/reviews: spec.http[0].corsPolicy.unmatchedPreflights: not implemented: preflight requests that match no origin are forwarded (Envoy's default)",
      "VirtualService bookinfo/reviews: spec.http[0].match[1].statPrefix: not implemented: no per-route statistics are kept",
    ],
  );
});

test("DestinationRule: cookie hashing sticks only when the client brings the cookie; a ttl asking the proxy to create it warns", () => {
  const lines = warned(
    dr(`  host: reviews
  trafficPolicy:
    loadBalancer: {consistentHash: {httpCookie: {name: user, ttl: 0s}}}
  subsets:
  - {name: v1, labels: {version: v1}, trafficPolicy: {loadBalancer: {consistentHash: {httpCookie: {name: user}}}}}
`),
  );
  assert.deepEqual(
    lines.map((line) => line.split(": not implemented")[0]),
    ["DestinationRule bookinfo/reviews: spec.trafficPolicy.loadBalancer.consistentHash.httpCookie.ttl"],
  );
});

test("DestinationRule: implemented policy gets no warning; the rest warns at every level it appears", () => {
  assert.deepEqual(
    warned(
      dr(`  host: reviews
  exportTo: ["."]
  trafficPolicy:
    loadBalancer: {consistentHash: {httpHeaderName: x-user}}
    connectionPool:
      tcp: {maxConnections: 10, connectTimeout: 1s}
      http: {http1MaxPendingRequests: 1, http2MaxRequests: 10, maxRequestsPerConnection: 5, maxRetries: 2, idleTimeout: 30s}
    outlierDetection: {consecutive5xxErrors: 3, consecutiveGatewayErrors: 2, interval: 1s, baseEjectionTime: 30s, maxEjectionPercent: 50, minHealthPercent: 10}
    tls: {mode: ISTIO_MUTUAL}
    portLevelSettings:
    - {port: {number: 9080}, loadBalancer: {simple: LEAST_REQUEST}}
  subsets:
  - {name: v1, labels: {version: v1}, trafficPolicy: {loadBalancer: {simple: RANDOM}}}
`),
    ),
    [],
  );
  assert.deepEqual(
    warned(
      dr(`  host: reviews
  trafficPolicy:
    loadBalancer: {simple: ROUND_ROBIN, localityLbSetting: {enabled: true}}
    connectionPool: {tcp: {tcpKeepalive: {time: 10s}}, http: {h2UpgradePolicy: UPGRADE}}
    tls: {mode: SIMPLE, credentialName: cacert, insecureSkipVerify: true}
    retryBudget: {percent: 20}
    portLevelSettings:
    - {port: {number: 9080}, outlierDetection: {consecutiveLocalOriginFailures: 2}}
  subsets:
  - name: v1
    labels: {version: v1}
    trafficPolicy: {loadBalancer: {warmupDurationSecs: 10s}}
`),
    ),
    [
      "DestinationRule bookinfo/reviews: spec.trafficPolicy.loadBalancer.localityLbSetting: not implemented: endpoints have no locality yet",
      "DestinationRule bookinfo/reviews: spec.subsets[0].trafficPolicy.loadBalancer.warmupDurationSecs: not implemented: new endpoints get full traffic at once",
      "DestinationRule bookinfo/reviews: spec.trafficPolicy.connectionPool.tcp.tcpKeepalive: not implemented: no TCP keepalive is set on upstream connections",
      "DestinationRule bookinfo/reviews: spec.trafficPolicy.connectionPool.http.h2UpgradePolicy: not implemented: HTTP/1.1 is never upgraded to HTTP/2",
      "DestinationRule bookinfo/reviews: spec.trafficPolicy.portLevelSettings[0].outlierDetection.consecutiveLocalOriginFailures: not implemented: local connect failures always count as 503s",
      "DestinationRule bookinfo/reviews: spec.trafficPolicy.tls.insecureSkipVerify: not implemented: the server certificate is always verified",
      "DestinationRule bookinfo/reviews: spec.trafficPolicy.tls.credentialName: not implemented: client-side certificates come only from file paths (clientCertificate, privateKey, caCertificates)",
      "DestinationRule bookinfo/reviews: spec.trafficPolicy.retryBudget: not implemented: retries are limited only by connectionPool.http.maxRetries",
    ],
  );
});

test("Sidecar: egress hosts (per listener port), outboundTrafficPolicy and workloadSelector take effect; binds and ingress do not", () => {
  assert.deepEqual(
    warned(
      sidecar(`  workloadSelector: {labels: {app: ratings}}
  egress: [{hosts: ["./*", "istio-system/*"]}]
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
`),
    ),
    [],
  );
  const w = warned(
    sidecar(`  ingress:
  - {port: {number: 9080, protocol: HTTP, name: http}, defaultEndpoint: "127.0.0.1:8080"}
  egress:
  - {port: {number: 9080, protocol: HTTP, name: http}, bind: 127.0.0.2, captureMode: NONE, hosts: ["./*"]}
  inboundConnectionPool: {tcp: {maxConnections: 5}}
`),
  );
  assert.deepEqual(
    w.map((line) => line.split(": not implemented")[0]),
    [
      "Sidecar bookinfo/default: spec.ingress",
      "Sidecar bookinfo/default: spec.egress[0].bind",
      "Sidecar bookinfo/default: spec.egress[0].captureMode",
      "Sidecar bookinfo/default: spec.inboundConnectionPool",
    ],
  );
});

test("kinds Shoal stores but does not act on warn as a whole; ServiceEntry and Gateway do not", () => {
  assert.deepEqual(
    warned(`apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: bookinfo-gateway, namespace: bookinfo}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"], bind: 0.0.0.0}]
`),
    [
      "Gateway bookinfo/bookinfo-gateway: spec.servers[0].bind: not implemented: the gateway listens on every address of its pod",
    ],
  );
  assert.deepEqual(
    warned(
      `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: foo}\nspec: {}\n`,
    ),
    [],
    "NetworkPolicy is enforced by the local cluster",
  );
  assert.match(
    warned(`apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: foo}
spec:
  jwtRules: [{issuer: testing@secure.istio.io, jwksUri: "https://example.com/jwks.json"}]
`).join(),
    /^RequestAuthentication foo\/jwt: RequestAuthentication is not implemented: stored; JWTs are not validated yet/,
  );
  assert.deepEqual(
    warned(`apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: httpbin, namespace: foo}
spec:
  hosts: [httpbin.org]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
  location: MESH_EXTERNAL
  exportTo: ["."]
`),
    [],
  );
});

test("every row of the table names a kind and a reason, and a path rooted at spec (or the whole resource)", () => {
  for (const row of NOT_IMPLEMENTED) {
    assert.ok(row.path === "" || row.path.startsWith("spec."), row.path);
    const reason = typeof row.reason === "string" ? row.reason : row.reason("x");
    assert.ok(reason.length > 10, `${row.kind} ${row.path}`);
  }
});

const MANIFEST = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews]
  http:
  - route: [{destination: {host: reviews}}]
    retries: {attempts: 2, backoff: 25ms}
`;

test("apply: the warning names kind, ns/name, field path and reason, and the resource is still applied", () => {
  const r = validateApply({ documents: [{ text: MANIFEST, source: "reviews.yaml" }] }, () => true);
  assert.deepEqual(r.errors, []);
  assert.equal(r.resources.length, 1);
  assert.deepEqual(r.warnings.map(formatDiagnostic), [
    "VirtualService bookinfo/reviews: spec.http[0].retries.backoff: not implemented: retries are sent without a backoff interval (reviews.yaml:8)",
  ]);
});

test("analyze (files and live cluster): SHOAL0002 NotImplemented, severity Warning", () => {
  const loaded = parseManifests(MANIFEST, "reviews.yaml");
  const fromFiles = analyzeDocuments(loaded.documents, loaded.errors).messages.filter(
    (m) => m.code === NOT_IMPLEMENTED_CODE,
  );
  assert.deepEqual(fromFiles.map(formatMessage), [
    "Warning [SHOAL0002] (VirtualService bookinfo/reviews) spec.http[0].retries.backoff: not implemented: retries are sent without a backoff interval (reviews.yaml:8)",
  ]);
  assert.equal(fromFiles[0]!.name, "NotImplemented");
  const stored = validateDocument(loaded.documents[0]!).resource as AnyResource;
  const live = analyzeStored([stored], { namespace: "bookinfo" }).filter(
    (m) => m.code === NOT_IMPLEMENTED_CODE,
  );
  assert.deepEqual(live.map(formatMessage), [
    "Warning [SHOAL0002] (VirtualService bookinfo/reviews) spec.http[0].retries.backoff: not implemented: retries are sent without a backoff interval",
  ]);
  assert.deepEqual(notImplementedFindings(stored, []), [], "an empty table warns about nothing");
});
