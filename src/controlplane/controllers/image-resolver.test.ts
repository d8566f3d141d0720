import assert from "node:assert/strict";
import { test } from "node:test";
import type { AnyResource } from "../../api/meta.js";
import { imageResolver } from "./image-resolver.js";

const pod: AnyResource = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", namespace: "foo" },
  spec: {},
};

test("a container without a command runs the stand-in for its image", () => {
  const c = imageResolver({
    pod,
    container: { name: "tcp-echo", image: "istio/tcp-echo-server:1.3", args: ["9000", "hi"] },
    index: 0,
    init: false,
  });
  assert.equal(c.argv[0], process.execPath);
  assert.match(c.argv[1]!, /runtime\/workloads\/main\.js$/);
  assert.deepEqual(c.argv.slice(2), ["tcp-echo", "9000", "hi"]);
  assert.equal(c.restartPolicy, "Always");
});

test("init containers run to completion first; unknown images say what to add", () => {
  const c = imageResolver({
    pod,
    container: { name: "init", image: "x", command: ["sh", "-c", "true"] },
    index: 0,
    init: true,
  });
  assert.equal(c.runToCompletion, true);
  assert.throws(
    () => imageResolver({ pod, container: { name: "web", image: "nginx" }, index: 1, init: false }),
    /Pod foo\/p: container "web".*add a "command"/,
  );
});
