// The what-if commands' shared input: NAME.NS and label arguments, ports, and -f manifests read from stdin
// (validated; a later document replaces an earlier one of the same kind/namespace/name; errors stop it).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { CliIo } from "../io.js";
import { UsageError } from "../io.js";
import { parseLabels, parseNameNs, parsePort, readResources } from "./what-if-input.js";

function io(stdin: string): CliIo & { err: () => string } {
  let err = "";
  return {
    stdout: () => undefined,
    stderr: (t) => {
      err += t;
    },
    readStdin: async () => stdin,
    err: () => err,
  };
}

test("NAME.NS splits at the last dot; labels are k=v pairs; ports are 1-65535", () => {
  assert.deepEqual(parseNameNs("reviews.v1.bookinfo", "--from", "POD"), {
    name: "reviews.v1",
    namespace: "bookinfo",
  });
  assert.throws(
    () => parseNameNs("reviews", "--from", "POD"),
    /--from must be POD\.NAMESPACE, not "reviews"/,
  );
  assert.deepEqual(parseLabels("app=a,version=v1,"), { app: "a", version: "v1" });
  assert.throws(() => parseLabels("app"), UsageError);
  assert.equal(parsePort("9080"), 9080);
  assert.throws(() => parsePort("0", "--port"), /--port: "0" is not a port/);
  assert.throws(() => parsePort("80x"), { message: '"80x" is not a port' });
});

test("manifests: the default namespace fills in, a later document replaces an earlier one", async () => {
  const yaml = `apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{name: http, port: 8080}]}
`;
  const got = await readResources(["-"], io(yaml), "shop");
  assert.equal(got?.length, 1);
  assert.equal(got?.[0]?.metadata.namespace, "shop");
  assert.deepEqual((got?.[0]?.["spec"] as { ports: Array<{ port: number }> }).ports[0]?.port, 8080);
});

test("manifests: an invalid document stops the command with the errors on stderr", async () => {
  const out = io(`apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 99999}]}\n`);
  assert.equal(await readResources(["-"], out, "shop"), undefined);
  assert.match(out.err(), /Service/);
});
