// The inbound listener's TLS as Envoy's: the workload certificate is presented with or without SNI (an
// `openssl s_client` without -servername gets it), rotation applies to the next handshake, and only the
// mesh ALPNs select mesh mTLS; other TLS under PERMISSIVE reaches a TCP application untouched.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { after, test } from "node:test";
import tls from "node:tls";
import type { SecureContext } from "node:tls";
import { spiffeServerIdentityCheck } from "../ca/peer-identity.js";
import { testRoot } from "../ca/test-support.js";
import type { ProxyIdentity } from "./connection-record.js";
import { MESH_ALPNS } from "./client-hello.js";
import {
  eventually,
  exchange,
  inboundChain,
  startApp,
  startTestProxy,
  testConfig,
  testWorkload,
} from "../testing/proxy-harness.js";

const mesh = await testRoot();
const server = await testWorkload(mesh, "foo", "app");
const renewed = await testWorkload(mesh, "foo", "app");
const client = await testWorkload(mesh, "bar", "curl");
const app = await startApp("echo");
after(() => app.close());

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

async function proxyWith(mode: "STRICT" | "PERMISSIVE", protocol = "tcp", identity = server.identity) {
  const tp = await startTestProxy(testConfig({ chains: [inboundChain(app.port, mode, protocol)] }), identity);
  tp.dst.current = { address: "127.0.0.1", port: app.port, family: "IPv4" };
  after(() => tp.proxy.close());
  return tp;
}

/** `openssl s_client` without -servername (no SNI): the server certificate it was shown, if any. */
function opensslServerCertificate(port: number, alpn: string): Promise<X509Certificate | undefined> {
  const args = ["s_client", "-connect", `127.0.0.1:${port}`, "-alpn", alpn, "-noservername"];
  return new Promise((resolve) => {
    const child = execFile("openssl", args, { timeout: 10_000 }, (_err, stdout) => {
      const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(stdout)?.[0];
      resolve(pem ? new X509Certificate(pem) : undefined);
    });
    child.stdin?.end();
  });
}

/** An mTLS handshake from the mesh client; `servername` undefined sends no SNI (the host is an IP). */
function handshake(port: number, alpn: string[], servername?: string): Promise<tls.PeerCertificate | string> {
  return new Promise((resolve) => {
    const s = tls.connect({
      host: "127.0.0.1",
      port,
      secureContext: client.identity.getSecureContext(),
      ALPNProtocols: alpn,
      checkServerIdentity: spiffeServerIdentityCheck([server.spiffeId]),
      ...(servername ? { servername } : {}),
    });
    s.on("secureConnect", () => {
      resolve(s.getPeerCertificate());
      s.destroy();
    });
    s.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

for (const mode of ["STRICT", "PERMISSIVE"] as const)
  test(`${mode}: openssl s_client without SNI is shown the workload certificate (URI SAN = SPIFFE id)`, async () => {
    const tp = await proxyWith(mode);
    const cert = await opensslServerCertificate(tp.proxy.ports.inbound, "istio");
    assert.ok(cert, "a certificate was presented");
    assert.equal(cert.subjectAltName, `URI:${server.spiffeId}`);
  });

test("a mesh client without SNI completes mTLS and its bytes reach the application", async () => {
  const tp = await proxyWith("STRICT");
  const res = await exchange(tp.proxy.ports.inbound, "no-sni", {
    secureContext: client.identity.getSecureContext(),
    ALPNProtocols: ["istio"],
    checkServerIdentity: spiffeServerIdentityCheck([server.spiffeId]),
  });
  assert.equal(res.data, "no-sni");
  await eventually("log line", () => tp.lines.length === 1);
  // No SNI: the requested server name is `-` in the access log.
  assert.match(tp.lines[0] ?? "", / - -$/);
});

test("rotation: the next handshake presents the current certificate, with and without SNI", async () => {
  const identity = rotatingIdentity();
  const tp = await proxyWith("STRICT", "tcp", identity);
  const serial = async (servername?: string) => {
    const peer = await handshake(tp.proxy.ports.inbound, ["istio"], servername);
    assert.ok(typeof peer !== "string", `handshake failed: ${String(peer)}`);
    return peer.serialNumber;
  };
  const first = new X509Certificate(server.pem.cert).serialNumber;
  const second = new X509Certificate(renewed.pem.cert).serialNumber;
  assert.notEqual(first, second);
  assert.equal(await serial(), first);
  assert.equal(await serial("outbound_.9000_._.app.foo.svc.cluster.local"), first);
  identity.use(renewed.identity.getSecureContext());
  assert.equal(await serial(), second);
  assert.equal(await serial("outbound_.9000_._.app.foo.svc.cluster.local"), second);
});

test("each mesh ALPN selects mesh mTLS under PERMISSIVE; the peer's identity is read", async () => {
  const tp = await proxyWith("PERMISSIVE");
  for (const alpn of MESH_ALPNS) {
    const res = await exchange(tp.proxy.ports.inbound, alpn, {
      secureContext: client.identity.getSecureContext(),
      ALPNProtocols: [alpn],
      checkServerIdentity: spiffeServerIdentityCheck([server.spiffeId]),
    });
    assert.equal(res.data, alpn, alpn);
  }
  assert.deepEqual(tp.proxy.stats.peers(), {
    [`inbound|${app.port}||.source_principal.spiffe://cluster.local/ns/bar/sa/curl`]: MESH_ALPNS.length,
  });
});

/** Starts a TLS handshake and resolves with the first TLS handshake record the application got. */
async function clientHelloAtApp(port: number, alpn: string[] | undefined): Promise<Buffer> {
  const before = app.received.length;
  const s = tls.connect({ host: "127.0.0.1", port, ...(alpn ? { ALPNProtocols: alpn } : {}) });
  s.on("error", () => undefined);
  // Only handshake records count: an earlier connection's closing alert may still arrive meanwhile.
  const hello = () => app.received.slice(before).find((b) => b[0] === 0x16);
  try {
    await eventually("the ClientHello reached the app", () => hello() !== undefined);
    return hello() as Buffer;
  } finally {
    s.destroy();
  }
}

test("PERMISSIVE TCP port: TLS without a mesh ALPN reaches the application untouched", async () => {
  const tp = await proxyWith("PERMISSIVE");
  for (const alpn of [undefined, ["h2", "http/1.1"], ["istio-foo"], ["istio2"]]) {
    const got = await clientHelloAtApp(tp.proxy.ports.inbound, alpn);
    // A ClientHello (handshake type 1) as the client sent it: the proxy did not terminate it.
    assert.equal(got[5], 0x01, String(alpn));
  }
  assert.deepEqual(tp.proxy.stats.peers(), {});
});

test("PERMISSIVE HTTP port: TLS without a mesh ALPN matches no filter chain and is closed", async () => {
  const tp = await proxyWith("PERMISSIVE", "http");
  const before = app.connections;
  const res = await exchange(tp.proxy.ports.inbound, "x", {
    ALPNProtocols: ["h2"],
    rejectUnauthorized: false,
  });
  assert.equal(res.data, "");
  assert.equal(app.connections, before, "no connection reached the app");
  await eventually("log line", () => tp.lines.length === 1);
  assert.match(tp.lines[0] ?? "", / 0 NR - filter_chain_not_found /);
});

test("STRICT: TLS without a mesh ALPN is still terminated, and fails without a mesh certificate", async () => {
  const tp = await proxyWith("STRICT");
  const before = app.connections;
  const res = await exchange(tp.proxy.ports.inbound, "x", {
    ALPNProtocols: ["h2"],
    rejectUnauthorized: false,
  });
  assert.equal(res.data, "");
  assert.equal(app.connections, before);
});

test("a resumed session is accepted with and without SNI, and keeps the peer's identity", async () => {
  const tp = await proxyWith("STRICT");
  const connect = (servername: string | undefined, session: Buffer | undefined) =>
    new Promise<{ data: string; reused: boolean; session: Buffer | undefined }>((resolve) => {
      const out = { data: "", reused: false, session: undefined as Buffer | undefined };
      const s = tls.connect({
        host: "127.0.0.1",
        port: tp.proxy.ports.inbound,
        secureContext: client.identity.getSecureContext(),
        ALPNProtocols: ["istio"],
        checkServerIdentity: spiffeServerIdentityCheck([server.spiffeId]),
        ...(servername ? { servername } : {}),
        ...(session ? { session } : {}),
      });
      s.on("session", (x: Buffer) => (out.session = x));
      s.on("secureConnect", () => {
        out.reused = s.isSessionReused();
        s.end("resume");
      });
      s.on("data", (d: Buffer) => (out.data += d.toString()));
      s.on("error", (e: Error) => (out.data += `error: ${e.message}`));
      s.on("close", () => resolve(out));
    });
  for (const servername of [undefined, "outbound_.9000_._.app.foo.svc.cluster.local"]) {
    const first = await connect(servername, undefined);
    assert.equal(first.data, "resume", `first, SNI ${String(servername)}`);
    assert.ok(first.session, "the server issued a session");
    const again = await connect(servername, first.session);
    assert.equal(again.data, "resume", `resumed, SNI ${String(servername)}`);
    assert.equal(again.reused, true, `the session was resumed, SNI ${String(servername)}`);
  }
  assert.deepEqual(tp.proxy.stats.peers(), {
    [`inbound|${app.port}||.source_principal.spiffe://cluster.local/ns/bar/sa/curl`]: 4,
  });
});
