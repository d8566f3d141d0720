// The config stream's hello with pod-bound tokens: another pod's token, a token for a pod re-created
// under the same name, and one for a pod that is gone are refused; the pod's own token is accepted.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isShoalError } from "../../api/errors.js";
import { generateTokenSigningKey, mintBootstrapToken } from "../../ca/bootstrap-token.js";
import type { PodLookup } from "../../ca/bootstrap-token.js";
import { authenticateHello, bootstrapTokenVerifier } from "./hello-auth.js";

const T0 = new Date();
const cp = generateTokenSigningKey();
const pods = new Map<string, string>([["foo/curl-1", "uid-1"]]);
const lookup: PodLookup = (ns, name) => {
  const uid = pods.get(`${ns}/${name}`);
  return uid === undefined ? undefined : { uid };
};
const token = (o: { pod?: string; podUid?: string } = {}) =>
  mintBootstrapToken({
    signingKey: cp.privateKey,
    namespace: "foo",
    serviceAccount: "curl",
    pod: o.pod ?? "curl-1",
    podUid: o.podUid ?? "uid-1",
    now: T0,
  });

test("the config stream refuses another pod's token, and a token for a pod that is gone", () => {
  const verify = bootstrapTokenVerifier([cp.publicKey], { pods: lookup, clock: () => T0 });
  const node = {
    id: "sidecar~10.244.0.7~other-1.foo~foo.svc.cluster.local",
    podName: "other-1",
    namespace: "foo",
  };
  assert.throws(
    () => authenticateHello({ type: "hello", token: token(), node }, verify),
    (e) => isShoalError(e, "XDS_NODE_MISMATCH") && /token is for pod foo\/curl-1/.test(e.message),
  );
  pods.set("foo/other-1", "uid-7");
  assert.throws(
    () => authenticateHello({ type: "hello", token: token({ pod: "other-1" }), node }, verify),
    (e) => isShoalError(e, "CA_TOKEN_POD_MISMATCH"),
  );
  const own = authenticateHello(
    { type: "hello", token: token({ pod: "other-1", podUid: "uid-7" }), node },
    verify,
  );
  assert.equal(own.serviceAccount, "curl");
  pods.delete("foo/other-1");
  assert.throws(
    () =>
      authenticateHello({ type: "hello", token: token({ pod: "other-1", podUid: "uid-7" }), node }, verify),
    (e) => isShoalError(e, "CA_TOKEN_POD_GONE"),
  );
});
