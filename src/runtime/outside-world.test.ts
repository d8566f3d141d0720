import assert from "node:assert/strict";
import { test } from "node:test";

import { outsideNetnsName } from "./names.js";
import { outsideWorldPod } from "./outside-world.js";
import { trustFiles } from "./trust-store.js";

const launch = {
  pki: { rootCert: "/s/public-root.pem", serverChain: "/s/chain.pem", serverKey: "/s/key.pem" },
  nodeBinary: "/node",
  workloadsMain: "/w/main.js",
};

test("the outside world first writes the cluster's trust store, then serves", () => {
  const pod = outsideWorldPod(
    { netns: outsideNetnsName("c1"), hosts: [{ ip: "203.0.113.10", names: ["httpbin.org"] }] } as never,
    launch,
  );
  const [trust, servers] = pod.containers;
  const files = trustFiles("c1");
  assert.equal(trust?.name, "trust-store");
  assert.equal(trust?.runToCompletion, true);
  assert.deepEqual(trust?.argv, [
    "/node",
    "/w/main.js",
    "trust-store",
    "--root",
    "/s/public-root.pem",
    "--bundle",
    files.bundle,
    "--extra-roots",
    files.extraRoots,
  ]);
  assert.equal(servers?.name, "servers");
  assert.ok(servers!.startOrder > trust!.startOrder);
  assert.equal(pod.ip, "203.0.113.10");
});
