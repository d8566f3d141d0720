import assert from "node:assert/strict";
import { test } from "node:test";
import type { PodSpec } from "./pod.js";
import { checkPodSpec, podSpecSchema } from "./pod.js";
import { check } from "./testing.js";

test("fields Shoal does not use (volumes, probes, affinity) pass through unchanged", () => {
  const spec = podSpecSchema.parse({
    containers: [{ name: "c", image: "i", livenessProbe: { exec: { command: ["true"] } }, volumeMounts: [] }],
    volumes: [{ name: "v", emptyDir: {} }],
    affinity: {},
  });
  assert.deepEqual(spec["volumes"], [{ name: "v", emptyDir: {} }]);
  assert.deepEqual(spec.containers[0]?.["livenessProbe"], { exec: { command: ["true"] } });
});

test("checkPodSpec reports at the given prefix: names, duplicates, env sources, service account", () => {
  const spec: PodSpec = {
    serviceAccountName: "Bad_SA",
    initContainers: [{ name: "app", image: "busybox" }],
    containers: [
      {
        name: "app",
        image: "x",
        ports: [{ name: "http", containerPort: 80 }],
        env: [
          { name: "A", valueFrom: { fieldRef: { fieldPath: "a" }, secretKeyRef: { key: "k" } } },
          { name: "B", value: "", valueFrom: { fieldRef: { fieldPath: "b" } } },
        ],
      },
      { name: "Side", image: "y", ports: [{ name: "http", containerPort: 81 }] },
    ],
  };
  const paths = checkPodSpec(spec, ["spec", "template", "spec"]).map(
    (f) => `${f.path.join(".")}: ${f.message}`,
  );
  assert.deepEqual(paths, [
    "spec.template.spec.containers.0.env.0.valueFrom: must set exactly one of fieldRef, resourceFieldRef, configMapKeyRef, secretKeyRef",
    'spec.template.spec.containers.0.name: duplicate container name "app" (also initContainers[0])',
    "spec.template.spec.containers.1.name: \"Side\" is not a container name: at most 63 lower-case alphanumerics or '-'",
    'spec.template.spec.containers.1.ports.0.name: duplicate port name "http" in the pod (also containers[0].ports[0])',
    'spec.template.spec.serviceAccountName: "Bad_SA" is not a service account name',
  ]);
});

test("a Pod reports schema errors with exact paths", () => {
  const r = check(`apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  restartPolicy: Sometimes
  containers:
  - name: c
    image: i
    command: sleep
    ports: [{containerPort: 65536}]
`);
  assert.deepEqual(r.errors, [
    "Pod default/p: spec.containers[0].command: must be a list of strings",
    "Pod default/p: spec.containers[0].ports[0].containerPort: must be a port between 1 and 65535",
    "Pod default/p: spec.restartPolicy: must be one of Always, OnFailure, Never",
  ]);
});
