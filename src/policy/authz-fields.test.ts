// Matching fields of sources, operations and `when` conditions, one table per field.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { AuthzCondition, AuthzOperation, AuthzSource } from "../api/istio/authorization-policy.js";
import { compileAuthz } from "./authz-compile.js";
import { evaluate } from "./authz-evaluate.js";
import type { ReqInit } from "./test-fixtures.js";
import { FOO_TCP_ECHO, authz, httpReq } from "./test-fixtures.js";

type Row = [name: string, req: ReqInit, want: boolean];

const allowed = (spec: Parameters<typeof authz>[2], init: ReqInit) =>
  evaluate(compileAuthz([authz("foo", "p", spec)], FOO_TCP_ECHO), httpReq(init)).allow;

function source(s: AuthzSource, rows: Row[]) {
  for (const [name, init, want] of rows)
    assert.equal(allowed({ rules: [{ from: [{ source: s }] }] }, init), want, name);
}
function operation(o: AuthzOperation, rows: Row[]) {
  for (const [name, init, want] of rows)
    assert.equal(allowed({ rules: [{ to: [{ operation: o }] }] }, init), want, name);
}
function when(c: AuthzCondition, rows: Row[]) {
  for (const [name, init, want] of rows)
    assert.equal(allowed({ rules: [{ when: [c] }] }, init), want, `${c.key}: ${name}`);
}
const PLAIN = { principal: undefined };
const BAR = { principal: "cluster.local/ns/bar/sa/sleep" };

test("principals: exact, `*` = any authenticated peer (never plaintext), prefix*, *suffix", () => {
  source({ principals: ["cluster.local/ns/foo/sa/curl"] }, [
    ["exact", {}, true],
    ["other", BAR, false],
    ["plaintext", PLAIN, false],
  ]);
  source({ principals: ["*"] }, [
    ["any mTLS peer", BAR, true],
    ["plaintext never matches `*`", PLAIN, false],
  ]);
  source({ principals: ["cluster.local/ns/bar/*"] }, [
    ["prefix", BAR, true],
    ["prefix miss", {}, false],
  ]);
  source({ principals: ["*/sa/sleep"] }, [
    ["suffix", BAR, true],
    ["suffix miss", {}, false],
  ]);
  source({ notPrincipals: ["*"] }, [
    ["notPrincipals [*] matches plaintext", PLAIN, true],
    ["notPrincipals [*] doesn't match mTLS", {}, false],
  ]);
});

test("namespaces, serviceAccounts, trustDomains come from the peer's SPIFFE id (need mTLS)", () => {
  source({ namespaces: ["foo"] }, [
    ["same ns", {}, true],
    ["other ns", BAR, false],
    ["plaintext", PLAIN, false],
  ]);
  source({ notNamespaces: ["foo"] }, [
    ["other ns", BAR, true],
    ["plaintext: none match", PLAIN, true],
    ["same ns", {}, false],
  ]);
  source({ serviceAccounts: ["bar/sleep"] }, [
    ["ns/sa", BAR, true],
    ["other sa", {}, false],
    ["plaintext", PLAIN, false],
  ]);
  source({ serviceAccounts: ["curl"] }, [
    ["bare sa = policy's namespace (foo)", {}, true],
    ["same sa name in another namespace", { principal: "cluster.local/ns/bar/sa/curl" }, false],
  ]);
  source({ trustDomains: ["cluster.local"] }, [
    ["same trust domain", {}, true],
    ["other trust domain", { principal: "other.domain/ns/foo/sa/curl" }, false],
    ["plaintext", PLAIN, false],
  ]);
});

test("ipBlocks = direct peer, remoteIpBlocks = X-Forwarded-For client (else the peer); CIDR or single IP", () => {
  source({ ipBlocks: ["10.244.0.0/16"] }, [
    ["inside", { sourceIp: "10.244.3.4" }, true],
    ["outside", { sourceIp: "10.245.0.1" }, false],
    ["remote ip doesn't count", { sourceIp: "10.1.0.1", remoteIp: "10.244.0.1" }, false],
  ]);
  source({ ipBlocks: ["10.244.0.5"] }, [["single IP", {}, true]]);
  source({ ipBlocks: ["fd00::/8"] }, [["IPv6", { sourceIp: "fd00::1" }, true]]);
  source({ notIpBlocks: ["10.244.0.0/16"] }, [["notIpBlocks", { sourceIp: "192.0.2.1" }, true]]);
  source({ remoteIpBlocks: ["203.0.113.0/24"] }, [
    ["XFF client inside", { remoteIp: "203.0.113.7" }, true],
    ["XFF client outside", { remoteIp: "198.51.100.1" }, false],
    ["no XFF: the direct peer", { sourceIp: "203.0.113.9" }, true],
  ]);
  source({ notRemoteIpBlocks: ["203.0.113.0/24"] }, [
    ["notRemoteIpBlocks", { remoteIp: "203.0.113.7" }, false],
  ]);
});

test("requestPrincipals: iss/sub from the validated JWT; `*` = any token", () => {
  const jwt = (principal: string) => ({ http: { auth: { principal } } });
  source({ requestPrincipals: ["https://issuer/alice"] }, [
    ["exact", jwt("https://issuer/alice"), true],
    ["other", jwt("https://issuer/bob"), false],
    ["no token", {}, false],
  ]);
  source({ requestPrincipals: ["*"] }, [
    ["any token", jwt("x/y"), true],
    ["no token", {}, false],
  ]);
  source({ notRequestPrincipals: ["*"] }, [["notRequestPrincipals [*] = no token", {}, true]]);
});

test("operation fields: ports, hosts (case-insensitive, wildcards), methods exact, paths", () => {
  operation({ ports: ["8080"] }, [
    ["destination port", {}, true],
    ["other port", { port: 9090 }, false],
  ]);
  operation({ notPorts: ["8080"] }, [["notPorts", { port: 9090 }, true]]);
  operation({ hosts: ["httpbin.foo:8000"] }, [
    ["exact", {}, true],
    ["case-insensitive", { http: { host: "HTTPBin.Foo:8000" } }, true],
    ["other", { http: { host: "other" } }, false],
  ]);
  operation({ hosts: ["*.example.com"] }, [
    ["suffix wildcard", { http: { host: "api.EXAMPLE.com" } }, true],
    ["suffix miss", { http: { host: "example.org" } }, false],
  ]);
  operation({ hosts: ["example.*"] }, [["prefix wildcard", { http: { host: "example.org" } }, true]]);
  operation({ notHosts: ["example.com"] }, [["notHosts", { http: { host: "Example.com" } }, false]]);
  operation({ methods: ["GET"] }, [
    ["exact", {}, true],
    ["case-sensitive", { http: { method: "get" } }, false],
    ["other", { http: { method: "POST" } }, false],
  ]);
  operation({ notMethods: ["GET"] }, [["notMethods", { http: { method: "POST" } }, true]]);
  operation({ paths: ["/details/*"] }, [
    ["prefix", { http: { path: "/details/0" } }, true],
    ["query string ignored", { http: { path: "/details/0?x=/y" } }, true],
    ["normalized first", { http: { path: "/ping/../details/0" } }, true],
  ]);
  operation({ paths: ["/ping"] }, [["exact, query ignored", { http: { path: "/ping?a=b" } }, true]]);
});

test("a normalized path can't bypass a DENY", () => {
  const spec = {
    action: "DENY" as const,
    rules: [{ to: [{ operation: { paths: ["/admin", "/admin/*"] } }] }],
  };
  const rows: Array<[string, boolean]> = [
    ["/admin", false],
    ["/public/../admin", false],
    ["/%2E%2E/admin", false],
    ["/a/%2e%2e/admin/x", false],
    // BASE (the default) keeps `//`: `//admin` is another path (MERGE_SLASHES merges it; see authz-paths).
    ["//admin", true],
    ["/%61dmin", false],
    ["/admin?x=1", false],
    ["/administrator", true],
  ];
  for (const [path, want] of rows) assert.equal(allowed(spec, { http: { path } }), want, path);
});

test("when: request.headers, IPs, peer attributes, JWT attributes, destination, SNI; values/notValues", () => {
  when({ key: "request.headers[X-Env]", values: ["prod*"] }, [
    ["header prefix (names are case-insensitive)", { http: { headers: { "x-env": "production" } } }, true],
    ["header absent", {}, false],
  ]);
  when({ key: "request.headers[x-env]", values: ["prod"] }, [
    ["any comma-separated element", { http: { headers: { "x-env": "dev,prod" } } }, true],
    ["repeated header", { http: { headers: { "x-env": ["dev", "prod"] } } }, true],
    ["no element matches", { http: { headers: { "x-env": "dev,production" } } }, false],
  ]);
  when({ key: "request.headers[x-env]", values: ["*"] }, [
    ["`*` = present, even empty", { http: { headers: { "x-env": "" } } }, true],
  ]);
  when({ key: "request.headers[x-env]", notValues: ["prod"] }, [
    ["notValues: absent header", {}, true],
    ["notValues: listed value", { http: { headers: { "x-env": "prod" } } }, false],
  ]);
  when({ key: "request.headers[x-env]", values: ["a*"], notValues: ["ab"] }, [
    ["values and notValues both hold", { http: { headers: { "x-env": "ac" } } }, true],
    ["notValues vetoes", { http: { headers: { "x-env": "ab" } } }, false],
  ]);
  when({ key: "source.ip", values: ["10.244.0.0/16"] }, [["source.ip", {}, true]]);
  when({ key: "remote.ip", values: ["203.0.113.7"] }, [["remote.ip", { remoteIp: "203.0.113.7" }, true]]);
  when({ key: "destination.ip", values: ["10.244.0.9"] }, [["destination.ip", {}, true]]);
  when({ key: "destination.port", values: ["8080"] }, [
    ["destination.port", {}, true],
    ["other port", { port: 1 }, false],
  ]);
  when({ key: "destination.port", values: ["08080"] }, [["a port compares as a number", {}, true]]);
  when({ key: "destination.port", notValues: ["8080"] }, [
    ["notValues: the port", {}, false],
    ["notValues: another port", { port: 9090 }, true],
  ]);
  when({ key: "source.ip", notValues: ["10.244.0.5"] }, [
    ["notValues: the peer", {}, false],
    ["notValues: another peer", { sourceIp: "10.244.0.6" }, true],
  ]);
  when({ key: "source.namespace", values: ["foo"] }, [
    ["source.namespace", {}, true],
    ["plaintext", PLAIN, false],
  ]);
  when({ key: "source.principal", values: ["cluster.local/ns/foo/*"] }, [["source.principal", {}, true]]);
  when({ key: "source.serviceAccount", values: ["foo/curl"] }, [["source.serviceAccount", {}, true]]);
  when({ key: "source.trustDomain", values: ["cluster.local"] }, [
    ["source.trustDomain", {}, true],
    ["another trust domain", { principal: "example.org/ns/foo/sa/curl" }, false],
    ["plaintext (no SPIFFE id)", PLAIN, false],
  ]);
  when({ key: "source.trustDomain", notValues: ["cluster.local"] }, [
    ["notValues: own trust domain", {}, false],
    ["notValues: another trust domain", { principal: "example.org/ns/foo/sa/curl" }, true],
  ]);
  const auth = {
    principal: "iss/sub",
    audiences: ["a1", "a2"],
    presenter: "client",
    claims: { groups: ["dev", "ops"], nested: { role: "admin" }, iss: "iss" },
  };
  when({ key: "request.auth.principal", values: ["iss/sub"] }, [
    ["request.auth.principal", { http: { auth } }, true],
  ]);
  when({ key: "request.auth.audiences", values: ["a2"] }, [
    ["request.auth.audiences (any of the list)", { http: { auth } }, true],
  ]);
  when({ key: "request.auth.presenter", values: ["client"] }, [
    ["request.auth.presenter", { http: { auth } }, true],
  ]);
  when({ key: "request.auth.claims[groups]", values: ["ops"] }, [
    ["list claim", { http: { auth } }, true],
    ["no token", {}, false],
  ]);
  when({ key: "request.auth.claims[nested][role]", values: ["admin"] }, [
    ["nested claim", { http: { auth } }, true],
  ]);
  when({ key: "request.auth.claims[iss]", values: ["other"] }, [
    ["claim mismatch", { http: { auth } }, false],
  ]);
  when({ key: "connection.sni", values: ["*.example.com"] }, [
    ["connection.sni", { sni: "api.example.com" }, true],
    ["no SNI", {}, false],
  ]);
  when({ key: "unknown.key", values: ["x"] }, [["unknown key never matches (fail closed)", {}, false]]);
});
