// Proxy-owned headers: hop-by-hop and client-supplied proxy headers never pass; the proxy's own are set.
import assert from "node:assert/strict";
import { test } from "node:test";
import { inboundRequestHeaders, outboundRequestHeaders, responseHeaders, xfccValue } from "./http-headers.js";

const pairs = (raw: string[]) => {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i] as string, raw[i + 1] as string]);
  return out;
};

test("outbound: XFCC, metadata, hop-by-hop and Connection-listed headers are dropped; x-envoy-* set", () => {
  const raw = [
    "Host",
    "details:9080",
    "Connection",
    "keep-alive, X-Secret",
    "X-Secret",
    "1",
    "X-Forwarded-Client-Cert",
    "By=evil",
    "x-envoy-peer-metadata",
    "forged",
    "x-envoy-attempt-count",
    "7",
    "X-Forwarded-Proto",
    "https",
    "User-Agent",
    "curl/8",
  ];
  const headers = { connection: "keep-alive, X-Secret", "x-request-id": undefined };
  const out = outboundRequestHeaders(raw, headers, {
    requestId: "rid",
    attempt: 1,
    peerMetadata: undefined,
    peerMetadataId: undefined,
  });
  assert.deepEqual(pairs(out), [
    ["Host", "details:9080"],
    ["User-Agent", "curl/8"],
    ["x-forwarded-proto", "http"],
    ["x-request-id", "rid"],
    ["x-envoy-attempt-count", "1"],
  ]);
});

test("inbound: XFCC set for an mTLS peer, removed for plaintext; the client sidecar's proto is kept", () => {
  const raw = ["host", "a", "x-forwarded-client-cert", "By=evil", "x-forwarded-proto", "http"];
  const xfcc = xfccValue("spiffe://td/ns/a/sa/s", "ab", "spiffe://td/ns/b/sa/c");
  assert.equal(xfcc, 'By=spiffe://td/ns/a/sa/s;Hash=ab;Subject="";URI=spiffe://td/ns/b/sa/c');
  const mtls = inboundRequestHeaders(raw, { "x-forwarded-proto": "http" }, { xfcc, requestId: "r" });
  assert.deepEqual(pairs(mtls), [
    ["host", "a"],
    ["x-forwarded-proto", "http"],
    ["x-request-id", "r"],
    ["x-forwarded-client-cert", xfcc],
  ]);
  const plain = inboundRequestHeaders(
    raw,
    { "x-forwarded-proto": "https" },
    { xfcc: undefined, requestId: "r" },
  );
  assert.deepEqual(pairs(plain), [
    ["host", "a"],
    ["x-forwarded-proto", "http"],
    ["x-request-id", "r"],
  ]);
});

test("responses: an upstream's service time and metadata are replaced by the proxy's own", () => {
  const raw = [
    "Content-Type",
    "text/plain",
    "x-envoy-upstream-service-time",
    "99",
    "Transfer-Encoding",
    "chunked",
  ];
  assert.deepEqual(pairs(responseHeaders(raw, {}, 3, "meta")), [
    ["Content-Type", "text/plain"],
    ["x-envoy-upstream-service-time", "3"],
    ["x-envoy-peer-metadata", "meta"],
  ]);
});
