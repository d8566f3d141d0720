import assert from "node:assert/strict";
import { test } from "node:test";
import { Ipam, inRange, rangeOf } from "./ipam.js";

test("allocates the lowest free address after the reserved ones", () => {
  const ipam = new Ipam(rangeOf("10.244.0.0/16"), ["10.244.0.2", "10.244.0.4"]);
  assert.equal(ipam.allocate(), "10.244.0.3");
  assert.equal(ipam.allocate(), "10.244.0.5");
  ipam.release("10.244.0.3");
  assert.equal(ipam.allocate(), "10.244.0.3");
});

test("held addresses are refused twice and out-of-range ones are refused", () => {
  const ipam = new Ipam(rangeOf("10.96.0.0/16"));
  assert.equal(ipam.reserve("10.96.0.7"), true);
  assert.equal(ipam.reserve("10.96.0.7"), false);
  assert.equal(ipam.reserve("10.244.0.7"), false);
  assert.equal(inRange(rangeOf("10.96.0.0/16"), "10.96.255.254"), true);
  assert.equal(inRange(rangeOf("10.96.0.0/16"), "10.96.255.255"), false);
});

test("a tiny range runs out with a clear error", () => {
  const ipam = new Ipam(rangeOf("192.168.0.0/30", 0));
  assert.equal(ipam.allocate(), "192.168.0.1");
  assert.equal(ipam.allocate(), "192.168.0.2");
  assert.throws(() => ipam.allocate(), /no free address/);
});
