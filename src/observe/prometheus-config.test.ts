import assert from "node:assert/strict";
import { test } from "node:test";
import type { AnyResource } from "../api/meta.js";
import { fileSdTargets, prometheusYaml, proxyTargets } from "./prometheus-config.js";

const pod = (ns: string, name: string, containers: string[], phase = "Running"): AnyResource =>
  ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns },
    spec: { containers: containers.map((c) => ({ name: c })) },
    status: { phase },
  }) as AnyResource;

test("one target per running pod with a proxy, at the relay, by metrics path", () => {
  const targets = proxyTargets([
    pod("foo", "httpbin-1", ["httpbin", "istio-proxy"]),
    pod("legacy", "curl-1", ["curl"]),
    pod("bar", "httpbin-2", ["httpbin", "istio-proxy"], "Pending"),
    pod("bar", "curl-2", ["curl", "istio-proxy"]),
  ]);
  assert.deepEqual(targets, [
    { namespace: "bar", pod: "curl-2" },
    { namespace: "foo", pod: "httpbin-1" },
  ]);
  assert.deepEqual(fileSdTargets("127.0.0.1:9999", targets)[1], {
    targets: ["127.0.0.1:9999"],
    labels: { __metrics_path__: "/proxies/foo/httpbin-1/metrics", namespace: "foo", pod: "httpbin-1" },
  });
  assert.match(prometheusYaml("/tmp/x/targets.json"), /files: \["\/tmp\/x\/targets.json"\]/);
});
