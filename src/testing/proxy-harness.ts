// Builders for proxy tests on loopback: identities from a test mesh root, configs with one inbound chain
// or one outbound service, an application server that records what reached it, a proxy with a faked
// original destination, and small clients.
import { once } from "node:events";
import net from "node:net";
import type { AddressInfo, Socket } from "node:net";
import tls from "node:tls";
import type { CertificateAuthority } from "../ca/authority.js";
import { testIdentity } from "../ca/test-support.js";
import type { OriginalDestination } from "../native/original-dst.js";
import type { ProxyIdentity } from "../proxy/connection-record.js";
import type { Proxy, StartProxyOptions } from "../proxy/proxy.js";
import { startProxy } from "../proxy/proxy.js";
import type { ProxyConfig } from "../proxy/proxy-config.js";
import { proxyConfigSchema } from "../proxy/proxy-config.js";
import type { AuthorizationPolicy } from "../api/istio/authorization-policy.js";
import { compileApplicable } from "../policy/authz-compile.js";
import type { AuthzConfig } from "../proxy/authz-config.js";

/** What the control plane sends for these policies, which the test says apply to the proxy's workload. */
export function authzFor(policies: readonly unknown[]): AuthzConfig {
  return compileApplicable(policies as AuthorizationPolicy[]);
}

export interface TestWorkload {
  identity: ProxyIdentity;
  /** PEMs, for clients that connect without a proxy. */
  pem: { key: string; cert: string; ca: string };
  spiffeId: string;
}

export async function testWorkload(ca: CertificateAuthority, ns: string, sa: string): Promise<TestWorkload> {
  const pem = await testIdentity(ca, ns, sa);
  const context = tls.createSecureContext({ ...pem, minVersion: "TLSv1.2" });
  return {
    identity: { getSecureContext: () => context, rootsPem: pem.ca, trustDomain: ca.trustDomain },
    pem,
    spiffeId: `spiffe://${ca.trustDomain}/ns/${ns}/sa/${sa}`,
  };
}

/** A config with the given parts; everything else empty (passthrough outbound). */
export function testConfig(parts: {
  version?: string;
  chains?: unknown[];
  policies?: unknown[];
  listeners?: unknown[];
  clusters?: unknown[];
  defaultCluster?: "PassthroughCluster" | "BlackHoleCluster";
  namespace?: string;
}): ProxyConfig {
  const ns = parts.namespace ?? "foo";
  return proxyConfigSchema.parse({
    version: parts.version ?? "v1",
    node: {
      id: `sidecar~127.0.0.1~app.${ns}~${ns}.svc.cluster.local`,
      kind: "sidecar",
      namespace: ns,
      podName: "app",
      workloadName: "app",
      labels: { app: "app" },
      serviceAccount: "app",
      ip: "127.0.0.1",
    },
    mesh: { trustDomain: "cluster.local", rootNamespace: "istio-system", outboundTrafficPolicy: "ALLOW_ANY" },
    inbound: {
      chains: parts.chains ?? [],
      authz: authzFor(parts.policies ?? []),
    },
    outbound: {
      listeners: parts.listeners ?? [],
      defaultCluster: parts.defaultCluster ?? "PassthroughCluster",
    },
    clusters: [
      { name: "PassthroughCluster", type: "ORIGINAL_DST" },
      { name: "BlackHoleCluster", type: "BLACKHOLE" },
      { name: "InboundPassthroughCluster", type: "ORIGINAL_DST" },
      ...(parts.clusters ?? []),
    ],
  });
}

export function inboundChain(
  port: number | null,
  mode: "STRICT" | "PERMISSIVE" | "DISABLE",
  protocol = "tcp",
) {
  return {
    name: port === null ? "InboundPassthroughCluster" : `inbound|${port}||`,
    port,
    protocol,
    mtls: { mode, policy: null },
    upstreamAddress: "127.0.0.1",
  };
}

/** An application that records connections and bytes; `echo` answers each chunk, `tcp` like tcp-echo. */
export interface TestApp {
  port: number;
  connections: number;
  received: Buffer[];
  sockets: Set<Socket>;
  close(): Promise<void>;
}

export async function startApp(
  mode: "echo" | "reply-on-end" = "echo",
  onSocket?: (s: Socket) => void,
): Promise<TestApp> {
  const app: TestApp = {
    port: 0,
    connections: 0,
    received: [],
    sockets: new Set(),
    close: async () => undefined,
  };
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    app.connections++;
    app.sockets.add(s);
    s.on("close", () => app.sockets.delete(s));
    s.on("error", () => undefined);
    const got: Buffer[] = [];
    s.on("data", (d: Buffer) => {
      app.received.push(d);
      got.push(d);
      if (mode === "echo") s.write(d);
    });
    s.on("end", () => {
      if (mode === "reply-on-end") s.end(`got ${Buffer.concat(got).toString()}`);
      else s.end();
    });
    onSocket?.(s);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  app.port = (server.address() as AddressInfo).port;
  app.close = async () => {
    for (const s of app.sockets) s.destroy();
    server.close();
    await once(server, "close");
  };
  return app;
}

export interface TestProxy {
  proxy: Proxy;
  lines: string[];
  /** Where the fake capture says connections were going. */
  dst: { current: OriginalDestination | undefined };
}

export async function startTestProxy(
  config: ProxyConfig | undefined,
  identity: ProxyIdentity,
  extra: Partial<StartProxyOptions> = {},
): Promise<TestProxy> {
  const lines: string[] = [];
  const dst: TestProxy["dst"] = { current: undefined };
  const proxy = await startProxy({
    config,
    identity,
    originalDst: () => dst.current,
    ports: { inbound: 0, outbound: 0, admin: 0, prometheus: 0, tunnel: 0 },
    host: "127.0.0.1",
    log: (l) => lines.push(l),
    detectTimeoutMs: 200,
    ...extra,
  });
  return { proxy, lines, dst };
}

export interface ClientResult {
  /** Everything the client read before the connection closed. */
  data: string;
  /** How it ended: a clean end, or an error code. */
  ended: "end" | string;
}

/** Connects (plaintext, or TLS when options are given), writes `payload`, half-closes and reads to the end. */
export function exchange(
  port: number,
  payload: string,
  tlsOptions?: tls.ConnectionOptions,
): Promise<ClientResult> {
  return new Promise((resolve) => {
    const s: Socket = tlsOptions
      ? tls.connect({ host: "127.0.0.1", port, ...tlsOptions })
      : net.connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let ended = "close";
    s.on(tlsOptions ? "secureConnect" : "connect", () => s.end(payload));
    s.on("data", (d: Buffer) => chunks.push(d));
    s.on("end", () => (ended = "end"));
    s.on("error", (e: NodeJS.ErrnoException) => (ended = e.code ?? e.message));
    s.on("close", () => resolve({ data: Buffer.concat(chunks).toString(), ended }));
  });
}

/** `base` (a testConfig) as the config of a gateway pod `gw` in its namespace, serving `ports`. */
export function asGatewayConfig(
  base: ReturnType<typeof testConfig>,
  ports: { port: number; serverPort: number; listener: string; tls: unknown[] }[],
): ProxyConfig {
  const ns = base.node.namespace;
  return proxyConfigSchema.parse({
    ...base,
    node: { ...base.node, kind: "gateway", id: `router~127.0.0.1~gw.${ns}~${ns}.svc.cluster.local` },
    gateway: { ports },
  });
}

/** A loopback port nothing listens on (bound, then closed): a dead endpoint, or one to listen on next. */
export async function freePort(): Promise<number> {
  const s = net.createServer().listen(0, "127.0.0.1");
  await once(s, "listening");
  const port = (s.address() as AddressInfo).port;
  s.close();
  await once(s, "close");
  return port;
}

/** Waits until `check` holds (polling), or fails after `ms`. */
/**
 * Resets cross a proxied TCP connection both ways: a client reset through PORT takes the echo app's
 * socket away, and an app reset ends the client's connection (each side sees one "ping" echoed first).
 */
export async function resetsCrossBothWays(port: number, echo: TestApp): Promise<void> {
  const c1 = net.connect(port, "127.0.0.1");
  c1.on("error", () => undefined);
  c1.write("ping");
  await once(c1, "data");
  if (echo.sockets.size !== 1) throw new Error(`the app holds ${echo.sockets.size} sockets, not 1`);
  c1.resetAndDestroy();
  await eventually("app socket closed", () => echo.sockets.size === 0);
  const c2 = net.connect(port, "127.0.0.1");
  c2.on("error", () => undefined);
  c2.write("ping");
  await once(c2, "data");
  for (const s of echo.sockets) s.resetAndDestroy();
  await once(c2, "close");
}

export async function eventually(what: string, check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
