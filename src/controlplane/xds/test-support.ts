// Fixtures for the push server tests: bootstrap tokens, minimal valid (and invalid) configs, a fake mesh
// whose versions the test bumps, a push server on a unix socket in a temp dir with XdsClients connected
// to it, and a poller that waits for a condition.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateTokenSigningKey, mintBootstrapToken } from "../../ca/bootstrap-token.js";
import type { ProxyConfig } from "../../proxy/proxy-config.js";
import type { HelloNode } from "../../xds-protocol/messages.js";
import { XdsClient } from "../../proxy/xds-client.js";
import { bootstrapTokenVerifier } from "./hello-auth.js";
import type { PushNode } from "./proxy-connection.js";
import { createPushServer } from "./push-server.js";
import type { PushServer, PushServerOptions } from "./push-server.js";
import { emptyAuthz } from "../../proxy/authz-config.js";

export const tokenKeys = generateTokenSigningKey();

export function tokenFor(
  namespace: string,
  pod: string,
  o: {
    serviceAccount?: string;
    now?: Date;
    ttlSeconds?: number;
    signingKey?: typeof tokenKeys.privateKey;
  } = {},
): string {
  return mintBootstrapToken({
    signingKey: o.signingKey ?? tokenKeys.privateKey,
    namespace,
    serviceAccount: o.serviceAccount ?? "default",
    pod,
    now: o.now ?? new Date(),
    ttlSeconds: o.ttlSeconds,
  });
}

export function helloNode(namespace: string, pod: string): HelloNode {
  return {
    id: `sidecar~10.244.0.9~${pod}.${namespace}~${namespace}.svc.cluster.local`,
    podName: pod,
    namespace,
  };
}

/** The smallest config parseProxyConfig accepts; `broken` references a cluster that is not defined. */
export function testConfig(
  n: { namespace: string; podName: string; id: string; serviceAccount?: string },
  version: string,
  o: { broken?: boolean } = {},
): ProxyConfig {
  return {
    version,
    node: {
      id: n.id,
      kind: "sidecar",
      namespace: n.namespace,
      podName: n.podName,
      workloadName: n.podName,
      labels: {},
      serviceAccount: n.serviceAccount ?? "default",
      ip: "10.244.0.9",
    },
    mesh: { trustDomain: "cluster.local", rootNamespace: "istio-system", outboundTrafficPolicy: "ALLOW_ANY" },
    inbound: { chains: [], authz: emptyAuthz() },
    outbound: { listeners: [], defaultCluster: o.broken ? "BlackHoleCluster" : "PassthroughCluster" },
    clusters: [{ name: "PassthroughCluster", type: "ORIGINAL_DST", endpoints: [], connectTimeoutMs: 10_000 }],
  };
}

/** A mesh whose config per pod is `pod@generation` (or broken for the pods listed in `broken`). */
export class FakeMesh {
  generation = new Map<string, number>();
  broken = new Set<string>();
  configFor = (node: PushNode): ProxyConfig => {
    const g = this.generation.get(node.podName) ?? 1;
    return testConfig(node, `${node.podName}@${g}`, { broken: this.broken.has(node.podName) });
  };
  bump(...pods: string[]): void {
    for (const p of pods) this.generation.set(p, (this.generation.get(p) ?? 1) + 1);
  }
}

/** A socket path in a fresh temp dir; `cleanup` removes the dir. */
export function tempSocket(): { target: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "shoal-xds-"));
  return {
    target: `unix:${join(dir, "xds.sock")}`,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export async function waitFor(what: string, pred: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Harness {
  server: PushServer;
  target: string;
  mesh: FakeMesh;
  clients: XdsClient[];
  connect(pod: string, o?: { token?: string; namespace?: string }): XdsClient;
  restart(): Promise<void>;
  close(): Promise<void>;
}

/** A push server on a unix socket over a FakeMesh, and XdsClients connected to it. */
export async function harness(
  ca: PushServerOptions["ca"],
  o: Partial<PushServerOptions> = {},
): Promise<Harness> {
  const sock = tempSocket();
  const mesh = new FakeMesh();
  const make = () =>
    createPushServer({
      ca,
      tokenVerifier: bootstrapTokenVerifier([tokenKeys.publicKey]),
      configFor: mesh.configFor,
      ...o,
    });
  const h: Harness = {
    server: make(),
    target: sock.target,
    mesh,
    clients: [],
    connect(pod, c = {}) {
      const ns = c.namespace ?? "foo";
      const client = new XdsClient({
        target: sock.target,
        node: helloNode(ns, pod),
        token: c.token ?? tokenFor(ns, pod),
        backoff: { initialMs: 20, maxMs: 200 },
      });
      h.clients.push(client);
      client.start();
      return client;
    },
    async restart() {
      await h.server.close();
      h.server = make();
      await h.server.listen(sock.target);
    },
    async close() {
      for (const c of h.clients) c.close();
      await h.server.close();
      sock.cleanup();
    },
  };
  await h.server.listen(sock.target);
  return h;
}
