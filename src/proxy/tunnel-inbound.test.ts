// The tunnel listener on the wire (loopback, a real proxy, a plain HTTP/2 client presenting a mesh
// certificate): CONNECT streams carry a connection's bytes both ways with half-close, authorization and
// the refusals answer a status before anything reaches the application, sessions from outside the mesh
// are refused, and each tunneled connection leaves the same log line and metrics as a direct one.
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import http2 from "node:http2";
import type { ClientHttp2Session } from "node:http2";
import { after, test } from "node:test";
import tls from "node:tls";
import type { SecureContext } from "node:tls";
import { spiffeServerIdentityCheck } from "../ca/peer-identity.js";
import { testRoot } from "../ca/test-support.js";
import type { ProxyIdentity } from "./connection-record.js";
import { parseAuthority } from "./tunnel-inbound.js";
import { TUNNEL_SETTINGS, tunnelAuthority } from "./tunnel-pool.js";
import {
  asGatewayConfig,
  eventually,
  freePort,
  inboundChain,
  startApp,
  startTestProxy,
  testConfig,
  testWorkload,
} from "../testing/proxy-harness.js";
import type { TestWorkload } from "../testing/proxy-harness.js";

const mesh = await testRoot();
const stranger = await testRoot("other.example");
const server = await testWorkload(mesh, "foo", "app");
const renewed = await testWorkload(mesh, "foo", "app");
const client = await testWorkload(mesh, "bar", "curl");
const outsider = await testWorkload(stranger, "bar", "curl");
const app = await startApp("reply-on-end");
after(() => app.close());
const httpPort = await freePort();
const deadPort = await freePort();

const denyCurl = {
  apiVersion: "security.istio.io/v1",
  kind: "AuthorizationPolicy",
  metadata: { name: "tcp-policy", namespace: "foo" },
  spec: { action: "DENY", rules: [{ from: [{ source: { principals: ["cluster.local/ns/bar/sa/curl"] } }] }] },
};

/** A proxy whose config has a TCP chain for the app, an HTTP chain and a chain to a dead port. */
async function proxyWith(
  o: { policies?: unknown[]; identity?: ProxyIdentity; mode?: "STRICT" | "DISABLE" } = {},
) {
  const chains = [
    inboundChain(app.port, o.mode ?? "STRICT"),
    inboundChain(httpPort, "STRICT", "http"),
    inboundChain(deadPort, "STRICT"),
  ];
  const tp = await startTestProxy(
    testConfig({ chains, policies: o.policies ?? [] }),
    o.identity ?? server.identity,
  );
  after(() => tp.proxy.close());
  const port = tp.proxy.ports.tunnel;
  assert.ok(port !== undefined && port > 0, "a sidecar listens for tunnels");
  return { ...tp, port };
}

/** An HTTP/2 session to the tunnel port as a mesh client; `servername` undefined sends no SNI. */
function tunnelSession(port: number, w: TestWorkload = client, servername?: string): ClientHttp2Session {
  const session = http2.connect(`https://127.0.0.1:${port}`, {
    secureContext: w.identity.getSecureContext(),
    ...(servername ? { servername } : {}),
    checkServerIdentity: spiffeServerIdentityCheck([server.spiffeId]),
    settings: TUNNEL_SETTINGS,
    maxSessionMemory: 256,
  });
  session.on("error", () => undefined);
  after(() => session.destroy());
  return session;
}

interface StreamResult {
  status: number | undefined;
  data: string;
  /** "end": END_STREAM; otherwise the reset or error code. */
  ended: string;
}

/** One CONNECT stream: writes `payload`, half-closes, reads to the end. */
function connect(session: ClientHttp2Session, authority: string, payload: string, method = "CONNECT") {
  return new Promise<StreamResult>((resolve) => {
    const headers =
      method === "CONNECT" ? { ":method": method, ":authority": authority } : { ":method": method };
    const stream = session.request(headers);
    const r: StreamResult = { status: undefined, data: "", ended: "close" };
    stream.on("response", (h) => (r.status = Number(h[":status"])));
    stream.on("data", (d: Buffer) => (r.data += d.toString()));
    stream.on("end", () => (r.ended = "end"));
    stream.on("error", (e: NodeJS.ErrnoException) => (r.ended = e.code ?? e.message));
    stream.on("close", () => resolve(r));
    stream.end(payload);
  });
}

const at = (port: number) => tunnelAuthority("127.0.0.1", port);

test("a CONNECT stream carries the connection's bytes both ways and passes the half-close on", async () => {
  const tp = await proxyWith();
  const session = tunnelSession(tp.port, client, "outbound_.9000_._.app.foo.svc.cluster.local");
  // The app answers only once it has seen the client's FIN: the reply proves the half-close reached it.
  const r = await connect(session, at(app.port), "ping");
  assert.deepEqual(r, { status: 200, data: "got ping", ended: "end" });
  await eventually("the log line", () => tp.lines.length === 1);
  // Flags "-", 4 bytes received and 8 sent, the app as upstream host, the chain's cluster, the
  // authority as downstream local and the session's client as downstream remote, no SNI.
  const p = app.port;
  const m = new RegExp(
    ` 0 - - - "-" 4 8 \\d+ .*"127\\.0\\.0\\.1:${p}" inbound\\|${p}\\|\\| 127\\.0\\.0\\.6:\\d+ 127\\.0\\.0\\.1:${p} 127\\.0\\.0\\.1:(\\d+) - -$`,
  ).exec(tp.lines[0] ?? "");
  assert.ok(m, tp.lines[0]);
  assert.equal(Number(m[1]), session.socket.localPort, "the peer is the tunnel's client");
  assert.equal(tp.proxy.stats.peers()[`inbound|${app.port}||.source_principal.${client.spiffeId}`], 1);
  await eventually("the closed metric", () =>
    /istio_tcp_connections_closed_total\{/.test(tp.proxy.stats.mesh.text()),
  );
  const opened = tp.proxy.stats.mesh
    .text()
    .split("\n")
    .find((l) => l.startsWith("istio_tcp_connections_opened_total{"));
  assert.match(opened ?? "", /source_principal="spiffe:\/\/cluster\.local\/ns\/bar\/sa\/curl"/);
  assert.match(opened ?? "", /connection_security_policy="mutual_tls"\} 1$/);
});

test("an authorization DENY answers 403 and nothing reaches the application", async () => {
  const tp = await proxyWith({ policies: [denyCurl] });
  const before = app.connections;
  const r = await connect(tunnelSession(tp.port), at(app.port), "secret");
  assert.equal(r.status, 403);
  assert.equal(r.data, "");
  assert.equal(app.connections, before, "no connection reached the app");
  await eventually("the log line", () => tp.lines.length === 1);
  assert.match(
    tp.lines[0] ?? "",
    /rbac_access_denied_matched_policy\[ns\[foo\]-policy\[tcp-policy\]-rule\[0\]\]/,
  );
  assert.equal(tp.proxy.stats.snapshot()[`inbound|${app.port}||`]?.denied, 1);
});

test("503 for a port with no chain, an HTTP chain, an unreachable app, another pod's address and a DISABLE port; 400 and 405", async () => {
  const tp = await proxyWith();
  const session = tunnelSession(tp.port);
  const unknownPort = await freePort();
  assert.equal((await connect(session, at(unknownPort), "x")).status, 503);
  assert.equal((await connect(session, at(httpPort), "x")).status, 503);
  assert.equal((await connect(session, at(deadPort), "x")).status, 503);
  assert.equal((await connect(session, "127.0.0.1", "x")).status, 400);
  assert.equal((await connect(session, "", "x", "GET")).status, 405);
  // Another address than the pod's own (the config's node IP), with a port the pod serves: refused.
  const before = app.connections;
  assert.equal((await connect(session, tunnelAuthority("10.0.0.9", app.port), "x")).status, 503);
  assert.equal(app.connections, before, "nothing reached the application");
  await eventually("six log lines", () => tp.lines.length === 6);
  assert.match(tp.lines[0] ?? "", / NR - filter_chain_not_found /);
  assert.match(tp.lines[1] ?? "", / NR - filter_chain_not_found /);
  assert.match(tp.lines[2] ?? "", / UF /);
  assert.match(tp.lines[5] ?? "", / NR - destination_not_this_pod /);
  // The session outlives its refused streams: the next connection on it is served.
  assert.equal((await connect(session, at(app.port), "again")).data, "got again");
  const disabled = await proxyWith({ mode: "DISABLE" });
  const served = app.connections;
  assert.equal((await connect(tunnelSession(disabled.port), at(app.port), "x")).status, 503);
  assert.equal(app.connections, served);
});

test("the authority's form: ADDRESS:PORT, IPv6 in brackets", () => {
  assert.deepEqual(parseAuthority("10.0.0.1:80"), { address: "10.0.0.1", port: 80 });
  assert.deepEqual(parseAuthority("[fd00::1]:9000"), { address: "fd00::1", port: 9000 });
  // What the client side sends is what the server side reads.
  assert.deepEqual(parseAuthority(tunnelAuthority("fd00::2", 443)), { address: "fd00::2", port: 443 });
  for (const bad of [
    undefined,
    "",
    "10.0.0.1",
    "fd00::1:80",
    "[10.0.0.1]:80",
    "host:80",
    "10.0.0.1:0",
    "10.0.0.1:70000",
  ])
    assert.equal(parseAuthority(bad), undefined, String(bad));
});

/** Whether a session from `w` gets a stream served (a 200) before it closes. */
async function served(port: number, w: TestWorkload, identity?: string): Promise<boolean> {
  const session = http2.connect(`https://127.0.0.1:${port}`, {
    secureContext: w.identity.getSecureContext(),
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
    ...(identity === "none" ? { secureContext: tls.createSecureContext({ ca: server.pem.ca }) } : {}),
  });
  session.on("error", () => undefined);
  after(() => session.destroy());
  const r = await connect(session, at(app.port), "x");
  return r.status === 200;
}

test("a client certificate from another trust domain, or none, gets no stream served", async () => {
  const tp = await proxyWith();
  const before = app.connections;
  assert.equal(await served(tp.port, outsider), false, "an untrusted root");
  assert.equal(await served(tp.port, client, "none"), false, "no client certificate");
  assert.equal(app.connections, before);
  await eventually("two log lines", () => tp.lines.length === 2);
  for (const line of tp.lines) assert.match(line, /TLS_error/);
  // Trusted roots that include the other trust domain's: the handshake succeeds, the session is refused.
  const both = tls.createSecureContext({
    key: server.pem.key,
    cert: server.pem.cert,
    ca: [mesh.rootsPem, stranger.rootsPem],
  });
  const wide = await proxyWith({
    identity: { getSecureContext: () => both, rootsPem: server.pem.ca, trustDomain: mesh.trustDomain },
  });
  assert.equal(await served(wide.port, outsider), false, "another trust domain");
  assert.equal(app.connections, before);
  await eventually("the refusal's line", () => wide.lines.length === 1);
  assert.match(wide.lines[0] ?? "", /UF .*"TLS_error:peer identity not in cluster\.local"/);
});

test("200 streams on one session are all served", async () => {
  const tp = await proxyWith();
  const session = tunnelSession(tp.port);
  const results = await Promise.all(
    Array.from({ length: 200 }, (_, i) => connect(session, at(app.port), `n${i}`)),
  );
  results.forEach((r, i) => assert.deepEqual(r, { status: 200, data: `got n${i}`, ended: "end" }));
  await eventually("200 log lines", () => tp.lines.length === 200);
});

/** An identity whose certificate can be swapped, as a renewal does. */
function rotatingIdentity(): ProxyIdentity & { use(context: SecureContext): void } {
  let current = server.identity.getSecureContext();
  return {
    getSecureContext: () => current,
    rootsPem: server.pem.ca,
    trustDomain: mesh.trustDomain,
    use: (context) => (current = context),
  };
}

/** The certificate the tunnel port presents to a new session (with SNI or without). */
async function presented(port: number, servername?: string): Promise<X509Certificate | undefined> {
  const session = tunnelSession(port, client, servername);
  await new Promise((resolve) => session.once("connect", resolve));
  const cert = (session.socket as tls.TLSSocket).getPeerX509Certificate();
  session.close();
  return cert;
}

test("a certificate rotation: new sessions get the new certificate, with or without SNI", async () => {
  const identity = rotatingIdentity();
  const tp = await proxyWith({ identity });
  const old = new X509Certificate(server.pem.cert);
  const fresh = new X509Certificate(renewed.pem.cert);
  assert.notEqual(old.serialNumber, fresh.serialNumber);
  assert.equal((await presented(tp.port))?.serialNumber, old.serialNumber);
  identity.use(renewed.identity.getSecureContext());
  assert.equal((await presented(tp.port))?.serialNumber, fresh.serialNumber, "without SNI");
  const sni = await presented(tp.port, "outbound_.9000_._.app.foo.svc.cluster.local");
  assert.equal(sni?.serialNumber, fresh.serialNumber, "with SNI");
});

test("gateways and proxies started with tunnel: null open no tunnel listener", async () => {
  const config = testConfig({ chains: [inboundChain(app.port, "STRICT")] });
  const gw = await startTestProxy(asGatewayConfig(config, []), server.identity, {
    gateway: { bindPort: () => 0 },
  });
  after(() => gw.proxy.close());
  assert.equal(gw.proxy.ports.tunnel, undefined);
  const none = await startTestProxy(config, server.identity, {
    ports: { inbound: 0, outbound: 0, admin: null, prometheus: null, tunnel: null },
  });
  after(() => none.proxy.close());
  assert.equal(none.proxy.ports.tunnel, undefined);
  assert.ok(none.proxy.ports.inbound > 0);
});
