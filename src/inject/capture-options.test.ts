// captureOptionsFromPod(): istio-init arguments (short and long flags), annotation fallback, and errors
// that name the pod and the bad value.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isShoalError } from "../api/errors.js";
import { defaultCaptureOptions } from "../runtime/capture-rules.js";
import { captureOptionsFromArgs, captureOptionsFromPod } from "./capture-options.js";
import type { PodTemplateLike } from "./sidecar.js";
import { injectPodSpec } from "./sidecar.js";

const pod = (annotations: Record<string, string> = {}): PodTemplateLike =>
  injectPodSpec({
    metadata: { name: "web", namespace: "foo", annotations },
    spec: { containers: [{ name: "web", image: "httpbin" }] },
  });

test("the injector's default arguments give the default options", () => {
  assert.deepEqual(captureOptionsFromPod(pod()), defaultCaptureOptions());
});

test("annotations reach the options through the init arguments", () => {
  const o = captureOptionsFromPod(
    pod({
      "traffic.sidecar.istio.io/includeInboundPorts": "9000, 9001",
      "traffic.sidecar.istio.io/excludeInboundPorts": "8081",
      "traffic.sidecar.istio.io/includeOutboundIPRanges": "10.0.0.0/8,203.0.113.10",
      "traffic.sidecar.istio.io/excludeOutboundIPRanges": "10.96.0.0/16,fd00::/8",
      "traffic.sidecar.istio.io/excludeOutboundPorts": "3306,5432",
    }),
  );
  assert.deepEqual(o.includeInboundPorts, [9000, 9001]);
  assert.deepEqual(o.excludeInboundPorts, [15090, 15021, 15020, 8081]);
  assert.deepEqual(o.includeOutboundIPRanges, ["10.0.0.0/8", "203.0.113.10/32"]);
  assert.deepEqual(o.excludeOutboundIPRanges, ["10.96.0.0/16"], "IPv6 ranges have no place in the v4 table");
  assert.deepEqual(o.excludeOutboundPorts, [3306, 5432]);
});

test("long flags and --flag=value work; logging flags are ignored", () => {
  const o = captureOptionsFromArgs(
    [
      "istio-iptables",
      "--envoy-port=16001",
      "--inbound-capture-port",
      "16006",
      "--proxy-uid=2000",
      "--istio-inbound-ports=",
      "--log_as_json",
    ],
    "pod foo/web",
  );
  assert.equal(o.outboundPort, 16001);
  assert.equal(o.inboundPort, 16006);
  assert.equal(o.proxyUid, 2000);
  assert.equal(o.proxyGid, 2000, "gid follows uid unless -g says otherwise");
  assert.deepEqual(o.includeInboundPorts, []);
});

test("a sidecar pod without istio-init reads its annotations", () => {
  const o = captureOptionsFromPod({
    metadata: { name: "web", annotations: { "traffic.sidecar.istio.io/excludeOutboundPorts": "25" } },
    spec: { containers: [{ name: "web" }, { name: "istio-proxy" }] },
  });
  assert.deepEqual(o.excludeOutboundPorts, [25]);
});

test("bad values are errors naming the pod and the value", () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ "traffic.sidecar.istio.io/excludeInboundPorts": "80x" }, /pod foo\/web: .*"80x" is not a port/],
    [
      { "traffic.sidecar.istio.io/includeOutboundIPRanges": "10.0.0.0/33" },
      /"10\.0\.0\.0\/33" is not a CIDR/,
    ],
    [{ "traffic.sidecar.istio.io/excludeOutboundPorts": "70000" }, /"70000" is not a port/],
    [{ "sidecar.istio.io/interceptionMode": "TPROXY" }, /interception mode "TPROXY" is not supported/],
  ];
  for (const [annotations, message] of cases)
    assert.throws(
      () => captureOptionsFromPod(pod(annotations)),
      (err: unknown) => isShoalError(err, "INVALID_CAPTURE") && message.test(err.message),
      JSON.stringify(annotations),
    );
  assert.throws(
    () => captureOptionsFromArgs(["istio-iptables", "-k", "eth1"], "pod x/y"),
    /unknown istio-iptables flag "-k"/,
  );
  assert.throws(() => captureOptionsFromArgs(["istio-iptables", "-p"], "pod x/y"), /flag -p needs a value/);
});
