// Bootstrap tokens are bound to one pod: the CA refuses a token for a pod that was deleted, for a pod re-created under the same name (new UID), one that
// is not bound to a UID, an expired one and one for another audience, each with its own code.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isShoalError } from "../api/errors.js";
import { DEFAULT_TOKEN_TTL_SECONDS, generateTokenSigningKey, mintBootstrapToken } from "./bootstrap-token.js";
import type { PodLookup } from "./bootstrap-token.js";
import { createCaService } from "./ca-service.js";
import { generateCsr } from "./csr.js";
import { T0, testRoot } from "./test-support.js";

const cp = generateTokenSigningKey();
const pods = new Map<string, string>([["foo/curl-1", "uid-1"]]);
const lookup: PodLookup = (ns, name) => {
  const uid = pods.get(`${ns}/${name}`);
  return uid === undefined ? undefined : { uid };
};
const service = createCaService({
  authority: await testRoot(),
  tokenKeys: [cp.publicKey],
  pods: lookup,
  clock: () => T0,
});
const token = (
  o: { pod?: string; podUid?: string | null; now?: Date; audience?: string; ttlSeconds?: number } = {},
) =>
  mintBootstrapToken({
    signingKey: cp.privateKey,
    namespace: "foo",
    serviceAccount: "curl",
    pod: o.pod ?? "curl-1",
    ...(o.podUid === null ? {} : { podUid: o.podUid ?? "uid-1" }),
    now: o.now ?? T0,
    audience: o.audience,
    ttlSeconds: o.ttlSeconds,
  });
const { csrPem } = await generateCsr();

async function refused(t: string, code: string, message: RegExp): Promise<void> {
  await assert.rejects(service.sign(csrPem, t), (e) => {
    assert.ok(isShoalError(e, code), `expected ${code}, got ${String(e)}`);
    assert.match(e.message, message);
    return true;
  });
}

test("the token of the pod that exists with that UID is signed", async () => {
  const res = await service.sign(csrPem, token());
  assert.match(res.chainPem, /BEGIN CERTIFICATE/);
});

test("tokens are short-lived: ten minutes by default", () => {
  assert.equal(DEFAULT_TOKEN_TTL_SECONDS, 600);
});

test("a token for a deleted pod is refused", async () => {
  await refused(
    token({ pod: "curl-gone" }),
    "CA_TOKEN_POD_GONE",
    /pod foo\/curl-gone, which no longer exists/,
  );
});

test("a token for an earlier pod of the same name (another UID) is refused", async () => {
  await refused(
    token({ podUid: "uid-0" }),
    "CA_TOKEN_POD_MISMATCH",
    /pod foo\/curl-1 with UID uid-0, but that pod now has UID uid-1/,
  );
});

test("a token bound to no pod UID is refused", async () => {
  await refused(token({ podUid: null }), "CA_TOKEN_POD_MISMATCH", /not bound to a pod UID/);
});

test("an expired token and one for another audience are refused", async () => {
  await refused(
    token({ now: new Date(T0.getTime() - 601_000) }),
    "CA_TOKEN_EXPIRED",
    /bootstrap token for foo\/curl expired/,
  );
  await refused(token({ audience: "kubernetes" }), "CA_TOKEN_WRONG_AUDIENCE", /does not include "istio-ca"/);
});
