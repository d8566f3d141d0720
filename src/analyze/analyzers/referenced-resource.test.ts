import assert from "node:assert/strict";
import { test } from "node:test";
import { messagesWith } from "./test-support.js";

const REGISTRY = `apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: external, namespace: default}
spec:
  hosts: [api.example.com]
  ports: [{number: 443, name: tls, protocol: TLS}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
`;

const vs = (name: string, http: string) =>
  `---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: ${name}, namespace: default}\nspec:\n  hosts: [reviews]\n  http:\n${http}`;

test("IST0101: destination hosts, ports and subsets the registry lacks (route and mirror wording)", () => {
  const out = messagesWith(
    "IST0101",
    REGISTRY +
      vs("reviews-bogushost", "  - route: [{destination: {host: reviews-bogus}}]\n") +
      vs("reviews-bogusport", "  - route: [{destination: {host: reviews, port: {number: 7777}}}]\n") +
      vs("reviews-bogussubset", "  - route: [{destination: {host: reviews, subset: v3}}]\n") +
      vs(
        "reviews-mirror",
        "  - route: [{destination: {host: reviews, subset: v1}}]\n    mirror: {host: reviews-shadow}\n" +
          "  - route: [{destination: {host: reviews}}]\n    mirrors: [{destination: {host: reviews, subset: v9}}]\n",
      ),
  );
  assert.deepEqual(out, [
    'Error [IST0101] (VirtualService default/reviews-bogushost) Referenced host not found: "reviews-bogus"',
    'Error [IST0101] (VirtualService default/reviews-bogusport) Referenced host:port not found: "reviews:7777"',
    'Error [IST0101] (VirtualService default/reviews-bogussubset) Referenced host+subset in destinationrule not found: "reviews+v3"',
    'Error [IST0101] (VirtualService default/reviews-mirror) Referenced mirror host not found: "reviews-shadow"',
    'Error [IST0101] (VirtualService default/reviews-mirror) Referenced mirror+subset in destinationrule not found: "reviews+v9"',
  ]);
});

test("IST0101: gateways a VirtualService names must exist (mesh always does)", () => {
  const out = messagesWith(
    "IST0101",
    REGISTRY +
      `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin-bogus, namespace: default}
spec:
  hosts: [reviews]
  gateways: [mesh, httpbin-gateway-bogus]
  http: [{route: [{destination: {host: reviews}}]}]
`,
  );
  assert.deepEqual(out, [
    'Error [IST0101] (VirtualService default/httpbin-bogus) Referenced gateway not found: "httpbin-gateway-bogus"',
  ]);
});

test("IST0101: known hosts, declared ports, defined subsets and ServiceEntry hosts are fine", () => {
  assert.deepEqual(
    messagesWith(
      "IST0101",
      REGISTRY +
        vs(
          "ok",
          "  - route: [{destination: {host: reviews.default.svc.cluster.local, subset: v2, port: {number: 9080}}}]\n" +
            "    mirror: {host: reviews, subset: v1}\n" +
            "  - route: [{destination: {host: api.example.com, port: {number: 443}}}]\n",
        ),
    ),
    [],
  );
});
