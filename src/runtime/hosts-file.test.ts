// Per-pod hosts files and resolv.conf.
import { test } from "node:test";
import assert from "node:assert/strict";
import { podHostsEntries, renderHostsFile, renderResolvConf } from "./hosts-file.js";
import type { PodState, ServiceState } from "./cluster-state.js";

const pod = { namespace: "foo", name: "curl-1", ip: "10.244.0.5", hosts: [] } as unknown as PodState;
const services: ServiceState[] = [
  { namespace: "foo", name: "httpbin", clusterIP: "10.96.0.20", ports: [], endpoints: [] },
  { namespace: "bar", name: "httpbin", clusterIP: "10.96.0.21", ports: [], endpoints: [] },
  { namespace: "bar", name: "db", ports: [], endpoints: ["10.244.1.3", "10.244.1.2"] },
];
const outside = { netns: "x", hosts: [{ names: ["example.com"], ip: "203.0.113.10" }] };

test("a pod's hosts file has itself, short names of its namespace, qualified names of all, the outside world", () => {
  const text = renderHostsFile("pod foo/curl-1", podHostsEntries(pod, { services, outside }));
  const lines = text.split("\n");
  assert.ok(lines.includes("10.244.0.5\tcurl-1"));
  assert.ok(lines.includes("10.96.0.21\thttpbin.bar httpbin.bar.svc httpbin.bar.svc.cluster.local"));
  assert.ok(lines.includes("10.96.0.20\thttpbin httpbin.foo httpbin.foo.svc httpbin.foo.svc.cluster.local"));
  assert.ok(lines.includes("203.0.113.10\texample.com"));
  assert.ok(lines.includes("127.0.0.1\tlocalhost"));
});

test("headless services list every endpoint under the same names", () => {
  const text = renderHostsFile("t", podHostsEntries(pod, { services, outside }));
  assert.match(text, /10\.244\.1\.2\tdb\.bar .*\n10\.244\.1\.3\tdb\.bar /);
});

test("a name claimed by one address is not handed to another later", () => {
  const text = renderHostsFile("t", [
    { ip: "10.0.0.1", names: ["a", "b"] },
    { ip: "10.0.0.9", names: ["x"] },
    { ip: "10.0.0.2", names: ["b", "c"] },
  ]);
  assert.ok(text.includes("10.0.0.2\tc\n"));
});

test("resolv.conf searches the pod's namespace and fails fast", () => {
  const text = renderResolvConf("foo");
  assert.match(text, /search foo\.svc\.cluster\.local svc\.cluster\.local cluster\.local/);
  assert.match(text, /nameserver 127\.0\.0\.1/);
});
