// Test fixtures for `x route check`: a small bookinfo (productpage → reviews v1/v2/v3) with a TCP echo
// service, as manifests. Used only by tests.
import { parseManifests } from "../api/load.js";
import type { AnyResource } from "../api/meta.js";
import { validateDocument } from "../api/validate.js";

function deployment(name: string, app: string, version: string, port: number): string {
  return `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: bookinfo}
spec:
  selector: {matchLabels: {app: ${app}, version: ${version}}}
  template:
    metadata: {labels: {app: ${app}, version: ${version}}}
    spec:
      serviceAccountName: bookinfo-${app}
      containers: [{name: ${app}, image: docker.io/istio/examples-bookinfo-${name}:1.20.2, ports: [{containerPort: ${port}}]}]
`;
}

function service(name: string, port: number, portName: string): string {
  return `---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: bookinfo, labels: {app: ${name}}}
spec:
  selector: {app: ${name}}
  ports: [{name: ${portName}, port: ${port}}]
`;
}

export const BOOKINFO = [
  `apiVersion: v1\nkind: Namespace\nmetadata: {name: bookinfo, labels: {istio-injection: enabled}}\n`,
  service("productpage", 9080, "http"),
  deployment("productpage-v1", "productpage", "v1", 9080),
  service("reviews", 9080, "http"),
  deployment("reviews-v1", "reviews", "v1", 9080),
  deployment("reviews-v2", "reviews", "v2", 9080),
  deployment("reviews-v3", "reviews", "v3", 9080),
  service("tcp-echo", 9000, "tcp"),
  deployment("tcp-echo-v1", "tcp-echo", "v1", 9000),
  deployment("tcp-echo-v2", "tcp-echo", "v2", 9000),
].join("");

export const REVIEWS_SUBSETS = `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: bookinfo}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}
`;

/** Validated resources from YAML; throws on the first invalid document. */
export function resources(yaml: string): AnyResource[] {
  const out: AnyResource[] = [];
  for (const doc of parseManifests(yaml, "fixture.yaml").documents) {
    const r = validateDocument(doc, { defaultNamespace: "bookinfo" });
    if (!r.resource) throw new Error(r.errors.map((e) => e.message).join("\n"));
    out.push(r.resource);
  }
  return out;
}
