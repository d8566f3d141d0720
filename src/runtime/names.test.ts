// Naming: cluster id in every name, kernel length limits, determinism.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  IFNAME_MAX,
  checkClusterId,
  nodeNetnsName,
  outsideNetnsName,
  podNetnsName,
  podVethNames,
  serviceChain,
  vethNodeName,
  vethPrefix,
} from "./names.js";

test("every netns name carries the cluster id", () => {
  assert.equal(nodeNetnsName("dev"), "shoal-dev-node");
  assert.equal(outsideNetnsName("dev"), "shoal-dev-outside");
  assert.match(podNetnsName("dev", "foo", "curl-1"), /^shoal-dev-[0-9a-f]{10}$/);
});

test("names are deterministic and differ between pods and clusters", () => {
  assert.equal(podNetnsName("a", "foo", "x"), podNetnsName("a", "foo", "x"));
  assert.notEqual(podNetnsName("a", "foo", "x"), podNetnsName("a", "bar", "x"));
  assert.notEqual(vethNodeName("a", "foo/x"), vethNodeName("b", "foo/x"));
});

test("veth names fit the kernel's 15 characters and start with the cluster's prefix", () => {
  const longName = "a-very-long-deployment-name-7d9f8c6b5-abcde";
  const { vethNode, vethPod } = podVethNames("cluster-with-a-long-id", "some-long-namespace", longName);
  assert.ok(vethNode.length <= IFNAME_MAX, vethNode);
  assert.ok(vethNode.startsWith(vethPrefix("cluster-with-a-long-id")));
  assert.equal(vethPod, "eth0");
});

test("iptables chain names fit 28 characters", () => {
  assert.ok(serviceChain("foo/bar/TCP/80").length <= 28);
});

test("cluster ids are checked", () => {
  assert.throws(() => checkClusterId("Bad Id"), /cluster id/);
  assert.throws(() => checkClusterId(""), /cluster id/);
  checkClusterId("e2e-1a2b3c");
});
