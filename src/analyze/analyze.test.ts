import assert from "node:assert/strict";
import { test } from "node:test";
import { parseManifests } from "../api/load.js";
import { analyzeDocuments } from "./analyze.js";
import { formatMessage } from "./message.js";

function run(text: string, namespace?: string): string[] {
  const loaded = parseManifests(text, "in.yaml");
  return analyzeDocuments(loaded.documents, loaded.errors, { namespace }).messages.map(formatMessage);
}

const TCP_ECHO = `
apiVersion: v1
kind: Service
metadata: {name: tcp-echo, namespace: foo}
spec:
  selector: {app: tcp-echo}
  ports: [{name: tcp, port: 9000}, {name: tcp-other, port: 9001}, {name: web, port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: tcp-echo, namespace: foo}
spec:
  selector: {matchLabels: {app: tcp-echo}}
  template:
    metadata: {labels: {app: tcp-echo}}
    spec: {containers: [{name: tcp-echo, image: istio/tcp-echo-server:1.3}]}
`;

function policy(action: string, operation: string): string {
  return `---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: tcp-policy, namespace: foo}
spec:
  selector: {matchLabels: {app: tcp-echo}}
  action: ${action}
  rules: [{to: [{operation: ${operation}}]}]
`;
}

test("an ALLOW rule with HTTP-only fields on a TCP port is reported as dropped, naming rule, field and port", () => {
  const out = run(TCP_ECHO + policy("ALLOW", `{methods: ["GET"], ports: ["9000"]}`));
  const tcp = out.filter((m) => m.includes("SHOAL0101"));
  assert.equal(tcp.length, 1);
  assert.match(
    tcp[0]!,
    /\(AuthorizationPolicy foo\/tcp-policy\) rule spec\.rules\[0\] uses HTTP-only field `methods`/,
  );
  assert.match(tcp[0]!, /TCP port 9000 \(Service tcp-echo port "tcp" is TCP\)/);
  assert.match(tcp[0]!, /drops the whole ALLOW rule/);
});

test("a DENY rule with only HTTP fields is reported as widened to every TCP port of the workload", () => {
  const out = run(TCP_ECHO + policy("DENY", `{methods: ["GET"]}`));
  const tcp = out.find((m) => m.includes("SHOAL0101"));
  assert.ok(tcp, out.join("\n"));
  assert.match(tcp, /TCP ports 8080 \(Service tcp-echo port "web" is UNKNOWN\), 9000 .*, 9001 /);
  assert.match(tcp, /DENY rule matches every connection/);
});

test("HTTP-only fields on an HTTP port are fine; TCP fields on TCP ports are fine", () => {
  const httpSvc = TCP_ECHO.replace(
    "{name: web, port: 80, targetPort: 8080}",
    "{name: http-web, port: 80, targetPort: 8080}",
  );
  assert.deepEqual(
    run(httpSvc + policy("ALLOW", `{methods: ["GET"], ports: ["8080"]}`)).filter((m) =>
      m.includes("SHOAL0101"),
    ),
    [],
  );
  assert.deepEqual(run(httpSvc + policy("ALLOW", `{ports: ["9000"]}`)), []);
});

test("IST0118 for a Service port whose protocol Istio cannot tell", () => {
  const out = run(TCP_ECHO).filter((m) => m.includes("IST0118"));
  assert.deepEqual(out.length, 1);
  assert.match(out[0]!, /Port name web \(port: 80, targetPort: 8080\) doesn't follow the naming convention/);
});

test("IST0127 when a selector matches no workload in the input, silent when there are no workloads", () => {
  const other = policy("ALLOW", `{ports: ["9000"]}`).replace("app: tcp-echo", "app: nothing");
  assert.ok(run(TCP_ECHO + other).some((m) => m.includes("IST0127") && m.includes("app=nothing")));
  assert.deepEqual(run(other), []);
});

test("IST0101 for missing gateways, hosts, subsets and namespaces", () => {
  const out = run(`
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec: {host: reviews, subsets: [{name: v1, labels: {version: v1}}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  gateways: [mesh, missing-gw]
  http:
  - route:
    - {destination: {host: reviews, subset: v1}, weight: 50}
    - {destination: {host: reviews.default.svc.cluster.local, subset: v9}, weight: 25}
    - {destination: {host: ratings}, weight: 25}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: default}
spec: {egress: [{hosts: ["./*", "nowhere/*"]}]}
`);
  const ist0101 = out.filter((m) => m.includes("IST0101"));
  assert.deepEqual(
    ist0101.map((m) => m.replace(/ \(in\.yaml:\d+\)$/, "").replace(/^Error \[IST0101\] /, "")),
    [
      '(Sidecar default/default) Referenced namespace not found: "nowhere"',
      '(VirtualService default/reviews) Referenced gateway not found: "missing-gw"',
      '(VirtualService default/reviews) Referenced host+subset in destinationrule not found: "reviews.default.svc.cluster.local+v9"',
      '(VirtualService default/reviews) Referenced host not found: "ratings"',
    ],
  );
});

test("-n keeps only that namespace's messages; schema errors are IST0106 errors", () => {
  const text = TCP_ECHO + policy("ALLOW", `{ports: ["90x1"]}`);
  const all = run(text);
  assert.ok(
    all.some((m) => m.startsWith("Error [IST0106] (AuthorizationPolicy foo/tcp-policy) spec.rules[0]")),
  );
  assert.deepEqual(run(text, "bar"), []);
});

test("two versions of one VirtualService are the later one, as applying them in order leaves it, not a conflict", () => {
  const reviews = (subset: string) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec:
  hosts: [reviews]
  http: [{route: [{destination: {host: reviews, subset: ${subset}}}]}]
`;
  const other = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-too, namespace: default}
spec:
  hosts: [reviews]
  http: [{route: [{destination: {host: reviews}}]}]
`;
  const codes = (text: string) => run(text).filter((l) => l.includes("IST0109"));
  assert.deepEqual(codes(`${reviews("v1")}---\n${reviews("v2")}`), []);
  assert.equal(
    codes(`${reviews("v1")}---\n${other}`).length,
    2,
    "two different VirtualServices still conflict",
  );
});
