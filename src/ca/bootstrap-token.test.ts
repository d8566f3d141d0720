// Bootstrap tokens: minting, and every way verification refuses a token.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isShoalError } from "../api/errors.js";
import { generateTokenSigningKey, mintBootstrapToken, verifyBootstrapToken } from "./bootstrap-token.js";
import { base64urlEncode } from "./jws.js";

const cp = generateTokenSigningKey();
const now = new Date("2026-01-01T00:00:00Z");
const later = (s: number): Date => new Date(now.getTime() + s * 1000);
const mint = (over: Partial<Parameters<typeof mintBootstrapToken>[0]> = {}): string =>
  mintBootstrapToken({
    signingKey: cp.privateKey,
    namespace: "foo",
    serviceAccount: "curl",
    pod: "curl-1",
    now,
    ...over,
  });
const verify = (token: string, at = later(10), over = {}) =>
  verifyBootstrapToken(token, { publicKeys: [cp.publicKey], now: at, ...over });

function refused(fn: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(fn, (e) => {
    assert.ok(isShoalError(e, code), `expected ${code}, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

test("a minted token verifies and yields its namespace, service account and pod", () => {
  const claims = verify(mint());
  assert.equal(claims.namespace, "foo");
  assert.equal(claims.serviceAccount, "curl");
  assert.equal(claims.pod, "curl-1");
  assert.deepEqual(claims.audience, ["istio-ca"]);
  assert.equal(claims.expiresAt.getTime() - claims.issuedAt.getTime(), 600_000); // default 10 min
  assert.match(claims.jti, /^[0-9a-f-]{36}$/);
  assert.notEqual(verify(mint()).jti, claims.jti);
});

test("a tampered token is refused", () => {
  const [h, p, s] = mint().split(".") as [string, string, string];
  const payload = JSON.parse(Buffer.from(p, "base64url").toString());
  payload["kubernetes.io"].serviceaccount.name = "admin";
  payload.sub = "system:serviceaccount:foo:admin";
  const forged = `${h}.${base64urlEncode(JSON.stringify(payload))}.${s}`;
  refused(() => verify(forged), "CA_TOKEN_BAD_SIGNATURE", /signature does not verify/);
  const other = generateTokenSigningKey();
  refused(
    () => verify(mint({ signingKey: other.privateKey })),
    "CA_TOKEN_BAD_SIGNATURE",
    /tampered or wrong signer/,
  );
});

test("an expired token is refused", () => {
  const token = mint({ ttlSeconds: 60 });
  assert.equal(verify(token, later(59)).namespace, "foo");
  refused(() => verify(token, later(60)), "CA_TOKEN_EXPIRED", /foo\/curl expired at 2026-01-01T00:01:00/);
  assert.equal(verify(token, later(61), { leewaySeconds: 5 }).pod, "curl-1");
});

test("a token for another audience or issuer is refused", () => {
  refused(
    () => verify(mint({ audience: "some-api" })),
    "CA_TOKEN_WRONG_AUDIENCE",
    /\["some-api"\].*"istio-ca"/,
  );
  refused(() => verify(mint(), later(1), { audience: "shoal-ca" }), "CA_TOKEN_WRONG_AUDIENCE", /shoal-ca/);
  refused(
    () => verify(mint({ issuer: "elsewhere" }), later(1), { issuer: "shoal-control-plane" }),
    "CA_TOKEN_WRONG_ISSUER",
    /elsewhere/,
  );
});

test("a token from the future is refused", () => {
  refused(() => verify(mint({ now: later(300) }), now), "CA_TOKEN_NOT_YET_VALID", /not valid before/);
});

test("malformed tokens are refused with what is wrong", () => {
  const good = mint();
  const [h, p] = good.split(".") as [string, string];
  refused(() => verify(""), "CA_TOKEN_MALFORMED", /empty/);
  refused(() => verify("abc.def"), "CA_TOKEN_MALFORMED", /2 parts, a JWS has 3/);
  refused(() => verify("!!.e30.AA"), "CA_TOKEN_MALFORMED", /header is not base64url/);
  refused(() => verify(`${base64urlEncode("nope")}.${p}.AA`), "CA_TOKEN_MALFORMED", /header is not JSON/);
  const none = base64urlEncode(JSON.stringify({ alg: "none", typ: "JWT" }));
  refused(() => verify(`${none}.${p}.`), "CA_TOKEN_UNSUPPORTED_ALG", /"none" is not ES256/);
  const hs = base64urlEncode(JSON.stringify({ alg: "HS256" }));
  refused(() => verify(`${hs}.${p}.AAAA`), "CA_TOKEN_UNSUPPORTED_ALG", /HS256/);
  refused(() => verify(`${h}.${p}.AAAA`), "CA_TOKEN_BAD_SIGNATURE", /not 64 bytes/);
});

test("signed but incomplete claims are malformed", async () => {
  const { signEs256 } = await import("./jws.js");
  const base = {
    iss: "x",
    aud: "istio-ca",
    iat: 1,
    exp: 2e9,
    jti: "j",
    sub: "system:serviceaccount:foo:curl",
  };
  const k8s = { namespace: "foo", pod: { name: "p" }, serviceaccount: { name: "curl" } };
  refused(() => verify(signEs256(base, cp.privateKey)), "CA_TOKEN_MALFORMED", /kubernetes\.io/);
  refused(
    () =>
      verify(
        signEs256({ ...base, sub: "system:serviceaccount:foo:admin", "kubernetes.io": k8s }, cp.privateKey),
      ),
    "CA_TOKEN_MALFORMED",
    /"sub" .* does not match/,
  );
  const badNs = { ...k8s, namespace: "../x" };
  refused(
    () =>
      verify(
        signEs256({ ...base, sub: "system:serviceaccount:../x:curl", "kubernetes.io": badNs }, cp.privateKey),
      ),
    "CA_TOKEN_MALFORMED",
    /not a DNS-1123 label/,
  );
});

test("minting refuses names that cannot form an identity", () => {
  refused(() => mint({ namespace: "Foo" }), "CA_TOKEN_CLAIMS", /not valid Kubernetes names/);
});
