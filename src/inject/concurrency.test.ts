// A gateway pod's Istio concurrency → the proxy's --workers: the pod's proxy.istio.io/config wins over
// meshConfig.defaultConfig, 0 is passed as `--workers 0` (the proxy makes it one per CPU), and without
// either the argv is what it always was.
import assert from "node:assert/strict";
import { test } from "node:test";
import { PROXY_CONFIG_ANNOTATION } from "../api/proxy-annotations.js";
import { MAX_WORKERS } from "../proxy/workers/count.js";
import { gatewayConcurrency, workersArg } from "./concurrency.js";
import { proxyContainerArgv } from "./proxy-argv.js";

const POD = { namespace: "istio-system", name: "ingressgateway-1", ip: "10.244.0.9", serviceAccount: "gw" };
const PATHS = { nodeBinary: "/node", proxyMain: "/p/main.js" };
const argvOf = (annotations: Record<string, string> | undefined, meshDefaultConfig: unknown) =>
  proxyContainerArgv(POD, "c1", PATHS, "gateway", gatewayConcurrency(annotations, meshDefaultConfig)).argv;
/** The value after --workers, or undefined when the flag is absent. */
const workersOf = (argv: string[]) => {
  const i = argv.indexOf("--workers");
  return i < 0 ? undefined : argv[i + 1];
};

test("the pod annotation sets the gateway's workers (JSON or block YAML)", () => {
  assert.equal(workersOf(argvOf({ [PROXY_CONFIG_ANNOTATION]: '{"concurrency": 2}' }, undefined)), "2");
  assert.equal(workersOf(argvOf({ [PROXY_CONFIG_ANNOTATION]: "concurrency: 3\n" }, {})), "3");
});

test("meshConfig.defaultConfig.concurrency applies when the pod sets none", () => {
  assert.equal(workersOf(argvOf(undefined, { concurrency: 3 })), "3");
  const otherFields = { [PROXY_CONFIG_ANNOTATION]: "holdApplicationUntilProxyStarts: true" };
  assert.equal(workersOf(argvOf(otherFields, { concurrency: 3 })), "3");
});

test("the pod annotation wins over the mesh's default", () => {
  assert.equal(workersOf(argvOf({ [PROXY_CONFIG_ANNOTATION]: "concurrency: 1" }, { concurrency: 4 })), "1");
  assert.equal(workersOf(argvOf({ [PROXY_CONFIG_ANNOTATION]: "concurrency: 0" }, { concurrency: 4 })), "0");
});

test("0 (Istio: all cores) is passed as --workers 0 for the proxy to size by its CPUs", () => {
  assert.equal(workersOf(argvOf(undefined, { concurrency: 0 })), "0");
  assert.deepEqual(workersArg(0), ["--workers", "0"]);
});

test("a large value is capped at the proxy's maximum", () => {
  assert.deepEqual(workersArg(1000), ["--workers", String(MAX_WORKERS)]);
});

test("without concurrency the gateway's argv is unchanged: no --workers", () => {
  const before = proxyContainerArgv(POD, "c1", PATHS, "gateway").argv;
  assert.deepEqual(argvOf(undefined, undefined), before);
  assert.deepEqual(argvOf({ other: "x" }, { drainDuration: "5s" }), before);
  assert.equal(before.at(-1), "--gateway");
});

test("a fragment that cannot be read sets nothing; the mesh's value still applies", () => {
  assert.equal(gatewayConcurrency({ [PROXY_CONFIG_ANNOTATION]: "concurrency: two" }, { concurrency: 2 }), 2);
  assert.equal(gatewayConcurrency({ [PROXY_CONFIG_ANNOTATION]: "{not json" }, undefined), undefined);
  assert.equal(gatewayConcurrency(undefined, { concurrency: -1 }), undefined);
});

test("a sidecar's argv never carries --workers", () => {
  const argv = proxyContainerArgv(POD, "c1", PATHS, "sidecar", 3).argv;
  assert.ok(!argv.includes("--workers") && !argv.includes("--gateway"));
});
