import assert from "node:assert/strict";
import { test } from "node:test";

import { trustFiles } from "../runtime/trust-store.js";
import { proxyContainerArgv } from "./proxy-argv.js";

test("the sidecar trusts the cluster's public roots next to Node's own", () => {
  const launch = proxyContainerArgv(
    { namespace: "foo", name: "curl-1", ip: "10.244.0.5", serviceAccount: "curl" },
    "c1",
    { nodeBinary: "/node", proxyMain: "/p/main.js" },
  );
  assert.equal(launch.env["NODE_EXTRA_CA_CERTS"], trustFiles("c1").extraRoots);
  assert.deepEqual(launch.argv.slice(0, 2), ["/node", "/p/main.js"]);
});
