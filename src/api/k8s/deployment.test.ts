import assert from "node:assert/strict";
import { test } from "node:test";
import { check } from "./testing.js";

const deployment = (selector: string, labels: string, extra = "") => `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: foo}
spec:
  selector: ${selector}
  template:
    metadata: {labels: ${labels}}
    spec:${extra}
      containers: [{name: web, image: mccutchen/go-httpbin, ports: [{containerPort: 8080}]}]
`;

test("the selector must select the template's labels (Kubernetes rejects it otherwise)", () => {
  assert.deepEqual(check(deployment("{matchLabels: {app: web}}", "{app: web, version: v1}")).errors, []);
  assert.deepEqual(
    check(deployment("{matchLabels: {app: web, version: v2}}", "{app: web, version: v1}")).errors,
    [
      "Deployment foo/web: spec.template.metadata.labels: do not match spec.selector (the selector must select the template's labels)",
    ],
  );
  assert.deepEqual(
    check(deployment("{matchExpressions: [{key: version, operator: NotIn, values: [v1]}]}", "{version: v1}"))
      .errors.length,
    1,
  );
  assert.deepEqual(check(deployment("{}", "{app: web}")).errors, [
    "Deployment foo/web: spec.selector: must not be empty (a Deployment selects its pods by label)",
  ]);
});

test("template pod spec is checked at its full path; restartPolicy must be Always", () => {
  const r = check(
    deployment(
      "{matchLabels: {app: web}}",
      "{app: web}",
      "\n      restartPolicy: OnFailure\n      serviceAccountName: web",
    ),
  );
  assert.deepEqual(r.errors, [
    "Deployment foo/web: spec.template.spec.restartPolicy: must be Always in a Deployment, not OnFailure",
  ]);
});

test("replicas is a whole number of at least 0; template labels are valid labels", () => {
  const r = check(
    deployment("{matchLabels: {app: web}}", "{app: web, 'bad key': x}").replace(
      "spec:\n  selector",
      "spec:\n  replicas: 1.5\n  selector",
    ),
  );
  assert.deepEqual(r.errors, [
    "Deployment foo/web: spec.replicas: must be a whole number",
    "Deployment foo/web: spec.template.metadata.labels.bad key: label key \"bad key\": the name must be 1-63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric",
  ]);
});
