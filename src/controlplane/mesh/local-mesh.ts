// The mesh half of the local cluster's daemon: the CA (roots, root rotation and token-signing key in the
// state directory; see mesh-ca.ts), the push server on a unix socket the proxy's uid can reach, configs built from the store
// (one snapshot per store version) and pushed on every change, and each sidecar's bootstrap token,
// minted into its pod's run directory every time the proxy starts.
import { chmod, chown, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { ShoalError } from "../../api/errors.js";
import { DEFAULT_TOKEN_TTL_SECONDS, mintBootstrapToken } from "../../ca/bootstrap-token.js";
import type { PodLookup } from "../../ca/bootstrap-token.js";
import type { RotationReport } from "../../ca/root-rotation.js";
import { PROXY_CONTAINER } from "../../inject/sidecar.js";
import type { ProxyConfig } from "../../proxy/proxy-config.js";
import { PROXY_UID } from "../../proxy/proxy-config.js";
import type { ContainerState, PodState } from "../../runtime/cluster-state.js";
import { clusterRunDir, podRunFiles, runRoot, xdsSocketPath } from "../../runtime/run-dir.js";
import { build } from "../../translate/build.js";
import type { MeshSnapshot } from "../../translate/snapshot-types.js";
import type { DaemonContext, DaemonExtension } from "../daemon.js";
import { buildSnapshot } from "../snapshot.js";
import { meshFromResources } from "../../mesh-config/sources.js";
import { createPushServer } from "../xds/push-server.js";
import type { PushServer } from "../xds/push-server.js";
import { bootstrapTokenVerifier } from "../xds/hello-auth.js";
import type { ProxyStatusRow } from "../xds/status.js";
import { startMeshCa } from "./mesh-ca.js";
import type { CaStatus, MeshCa } from "./mesh-ca.js";
import { fetchProxyCertificates, fetchProxyConfig } from "./proxy-admin.js";
import { loadOrCreateTokenKey } from "./token-key.js";
import type { TokenKeys } from "./token-key.js";

/** Tokens are re-minted for running sidecars well before they expire (certificate renewals use them). */
const TOKEN_REFRESH_MS = (DEFAULT_TOKEN_TTL_SECONDS * 1000) / 3;

export interface LocalMesh {
  /** Starts with the daemon, stops before it. */
  extension: DaemonExtension;
  /** The supervisor's before-start hook: a fresh bootstrap token for each start of a sidecar. */
  beforeStart(pod: PodState, container: ContainerState): Promise<void>;
  /** `shoal proxy-status` rows. */
  status(): ProxyStatusRow[];
  /** The config a pod's proxy runs now, read from its admin. */
  proxyConfig(namespace: string, pod: string): Promise<unknown>;
  /** The certificates a pod's proxy holds now, read from its admin. */
  proxyCertificates(namespace: string, pod: string): Promise<unknown>;
  /** Resolves once every connected proxy answered the config it should run now; the ids still behind. */
  settle(timeoutMs: number): Promise<string[]>;
  /** The mesh roots, any rotation in progress, and which root each proxy's leaf is under. */
  caStatus(): Promise<CaStatus>;
  /** Runs (or continues) a root rotation with overlap; see ca/root-rotation.ts. */
  rotateRoot(o?: { phaseTimeoutMs?: number }): Promise<RotationReport>;
  /** Both of the above for the daemon's API. */
  ca(action: "status" | "rotate-root", o: { phaseTimeoutMs?: number }): Promise<unknown>;
}

interface Running {
  ctx: DaemonContext;
  keys: TokenKeys;
  push: PushServer;
  ca: MeshCa;
}

export function createLocalMesh(): LocalMesh {
  let running: Running | undefined;
  /** Sidecars that got a token, for the periodic refresh: key → what minting needs. */
  const sidecars = new Map<string, { pod: PodState; uid: number; gid: number }>();

  async function writeToken(r: Running, pod: PodState, uid: number, gid: number): Promise<void> {
    const files = podRunFiles(r.ctx.clusterId, pod.namespace, pod.name);
    await mkdir(files.dir, { recursive: true, mode: 0o700 });
    await chown(files.dir, uid, gid);
    await chmod(files.dir, 0o700);
    const token = mintBootstrapToken({
      signingKey: r.keys.privateKey,
      namespace: pod.namespace,
      serviceAccount: pod.serviceAccount,
      pod: pod.name,
      podUid: pod.uid,
      now: new Date(),
    });
    // Written beside, then renamed: the proxy never reads half a token.
    const tmp = `${files.token}.tmp`;
    await writeFile(tmp, token, { mode: 0o400 });
    await chown(tmp, uid, gid);
    await rename(tmp, files.token);
  }

  async function start(ctx: DaemonContext): Promise<{ stop(): Promise<void> }> {
    // The CA issues identities in the mesh config's trust domain (the `istio` ConfigMap).
    const { trustDomain } = meshFromResources(ctx.store.list({ kind: "ConfigMap" })).mesh;
    const keys = await loadOrCreateTokenKey(ctx.stateDir);
    // Tokens are bound to a pod's UID: one for a deleted (or deleted and re-created) pod is refused.
    const pods: PodLookup = (namespace, name) => {
      const uid = ctx.store.get({ kind: "Pod", namespace, name })?.metadata.uid;
      return uid === undefined ? undefined : { uid };
    };
    const late: { push?: PushServer } = {}; // set below: the CA and the push server need each other
    const meshCa = await startMeshCa({
      stateDir: ctx.stateDir,
      trustDomain,
      now: new Date(),
      pods,
      tokenKeys: [keys.publicKey],
      proxies: () => late.push?.status() ?? [],
      certificates: (namespace, pod) =>
        fetchProxyCertificates(podRunFiles(ctx.clusterId, namespace, pod).adminSocket),
      publish: async (timeoutMs) => {
        late.push?.notifyChanged("all");
        return late.push ? late.push.settle(timeoutMs) : [];
      },
      log: ctx.log,
    });
    const authority = meshCa.roots.authority;
    let cached: { version: number; snapshot: MeshSnapshot } | undefined;
    const snapshot = (): MeshSnapshot => {
      const version = ctx.store.resourceVersion;
      if (cached?.version !== version) cached = { version, snapshot: buildSnapshot(ctx.store.list()) };
      return cached.snapshot;
    };
    const push = createPushServer({
      ca: meshCa.service,
      tokenVerifier: bootstrapTokenVerifier([keys.publicKey], { pods }),
      configFor: (node): ProxyConfig => meshCa.withTrust(build(snapshot(), node.id).config),
    });
    late.push = push;
    push.on("connected", (n) => ctx.log("proxy connected", { node: n.id }));
    push.on("rejected", (err, peer) =>
      ctx.log("proxy rejected", { peer, code: err.code, error: err.message }),
    );
    push.on("nacked", (n, version, errors) =>
      ctx.log("config rejected by proxy", { node: n.id, version, errors }),
    );
    push.on("configError", (n, err) => ctx.log("config build failed", { node: n.id, error: String(err) }));
    // The run directory: traversable by the proxy's uid, the socket connectable by its group only.
    for (const dir of [runRoot(), clusterRunDir(ctx.clusterId)]) {
      await mkdir(dir, { recursive: true, mode: 0o711 });
      await chmod(dir, 0o711);
    }
    await mkdir(`${clusterRunDir(ctx.clusterId)}/pods`, { recursive: true, mode: 0o711 });
    const socket = xdsSocketPath(ctx.clusterId);
    await rm(socket, { force: true }); // a socket left by a killed daemon would make listen fail
    await push.listen(`unix:${socket}`);
    if (process.getuid?.() === 0) {
      await chown(socket, 0, PROXY_UID);
      await chmod(socket, 0o660);
    } else await chmod(socket, 0o600); // only our own proxies (tests) run without root
    const r: Running = { ctx, keys, push, ca: meshCa };
    running = r;
    // Store changes → push; only configs whose version changed are sent.
    const unwatch = ctx.store.watch(() => push.notifyChanged("all"));
    const refresh = setInterval(() => {
      for (const [key, s] of sidecars) {
        if (!ctx.store.get({ kind: "Pod", namespace: s.pod.namespace, name: s.pod.name })) {
          sidecars.delete(key);
          void rm(podRunFiles(ctx.clusterId, s.pod.namespace, s.pod.name).dir, {
            recursive: true,
            force: true,
          });
          continue;
        }
        writeToken(r, s.pod, s.uid, s.gid).catch((err: unknown) =>
          ctx.log("token refresh failed", { pod: `${s.pod.namespace}/${s.pod.name}`, error: String(err) }),
        );
      }
    }, TOKEN_REFRESH_MS);
    refresh.unref();
    ctx.log("mesh control plane ready", { xds: socket, trustDomain: authority.trustDomain });
    return {
      async stop() {
        clearInterval(refresh);
        unwatch();
        running = undefined;
        sidecars.clear();
        await push.close({ graceMs: 500 });
        await rm(socket, { force: true });
      },
    };
  }

  const mesh = (): Running => {
    if (!running) throw new ShoalError("NO_MESH", "the mesh control plane is not running");
    return running;
  };
  /** The admin socket of a pod's sidecar, once the pod exists. */
  const adminSocketOf = (namespace: string, pod: string): string => {
    const r = running;
    if (!r) throw new ShoalError("NO_MESH", "the mesh control plane is not running");
    if (!r.ctx.store.get({ kind: "Pod", namespace, name: pod }))
      throw new ShoalError("NOT_FOUND", `pods "${pod}" not found in namespace ${namespace}`);
    return podRunFiles(r.ctx.clusterId, namespace, pod).adminSocket;
  };
  return {
    extension: start,
    async beforeStart(pod, container) {
      if (container.name !== PROXY_CONTAINER) return;
      const r = running;
      if (!r) throw new Error("the mesh control plane is not running: no bootstrap token for the proxy");
      const uid = container.uid ?? PROXY_UID;
      const gid = container.gid ?? uid;
      await writeToken(r, pod, uid, gid);
      sidecars.set(`${pod.namespace}/${pod.name}`, { pod, uid, gid });
    },
    status: () => running?.push.status() ?? [],
    proxyConfig: async (namespace, pod) =>
      fetchProxyConfig(adminSocketOf(namespace, pod), `${namespace}/${pod}`),
    proxyCertificates: async (namespace, pod) => fetchProxyCertificates(adminSocketOf(namespace, pod)),
    settle: async (timeoutMs) => (running ? running.push.settle(timeoutMs) : []),
    caStatus: async () => mesh().ca.status(),
    rotateRoot: async (o) => mesh().ca.rotateRoot(o),
    ca: async (action, o) => (action === "status" ? mesh().ca.status() : mesh().ca.rotateRoot(o)),
  };
}
