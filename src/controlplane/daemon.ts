// The cluster daemon: owns a state directory, restores the store, runs the control loop against the
// runtime and serves the API on the state directory's unix socket until told to stop.
import type { ClusterConfig } from "../runtime/cluster-config.js";
import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, rm } from "node:fs/promises";
import type { Server } from "node:http";
import type { Diagnostic } from "../api/diagnostic.js";
import { ShoalError } from "../api/errors.js";
import type { DaemonApi, HealthInfo } from "./api-server.js";
import { createApiServer } from "./api-server.js";
import { BUILTIN_NAMESPACES, applyToStore } from "./apply.js";
import type { ContainerResolver } from "./controllers/containers.js";
import { Reconciler } from "./controllers/reconciler.js";
import type { PodExec } from "./kube-api/backend.js";
import { startKubeApi } from "./kube-api/server.js";
import type { KubeApiHandle } from "./kube-api/server.js";
import { execTarget, streamFile } from "./pod-access.js";
import { claimPidFile, releasePidFile } from "./pidfile.js";
import type { ClusterRuntime } from "./runtime-port.js";
import { parseSelector } from "./selector.js";
import { stateFiles } from "./state-dir.js";
import type { MeshDocument } from "../mesh-config/mesh-config.js";
import { syncMeshConfig } from "./mesh-config-store.js";
import { ResourceStore, writeFileDurable } from "./store.js";
import type { ProxyStatusRow } from "./xds/status.js";

export interface DaemonOptions {
  stateDir: string;
  runtime: ClusterRuntime;
  resolve: ContainerResolver;
  /** Overrides the id kept in the state directory (first start only picks one). */
  clusterId?: string;
  /** The cluster's nodes and firewall (absent: one node, outside world open). */
  clusterConfig?: ClusterConfig;
  log?: (line: string) => void;
  /** Parts started with the daemon and stopped before it (the xds push server, the CA, ...). */
  extensions?: DaemonExtension[];
  /** The mesh's debug views behind `proxy-status` and `proxy-config` (absent: no proxies). */
  mesh?: MeshDebug;
  /** Serve the Kubernetes API (HTTPS on 127.0.0.1) too; `port` 0 picks one, absent reuses the kept one. */
  kubeApi?: { port?: number; exec?: PodExec; bookmarkMs?: number };
  /** meshConfig settings given to `shoal up`, merged over the kept ones (the `istio` ConfigMap). */
  meshConfig?: MeshDocument;
}

export interface MeshDebug {
  status(): ProxyStatusRow[];
  /** Resolves once every connected proxy answered the config it should run now; the ids still behind. */
  settle?(timeoutMs: number): Promise<string[]>;
  proxyConfig(namespace: string, pod: string): Promise<unknown>;
  proxyCertificates(namespace: string, pod: string): Promise<unknown>;
  /** The mesh CA's status and root rotation (`shoal x ca`). */
  ca?(action: "status" | "rotate-root", o: { phaseTimeoutMs?: number }): Promise<unknown>;
}

/** How long a write waits for the proxies to take it before it returns with a warning. */
const SETTLE_TIMEOUT_MS = 5000;

/** Waits for the mesh to take the latest write; a warning naming each proxy that did not in time. */
async function unsettled(mesh: MeshDebug | undefined): Promise<Diagnostic[]> {
  const behind = (await mesh?.settle?.(SETTLE_TIMEOUT_MS)) ?? [];
  return behind.map((node) => ({
    severity: "warning" as const,
    code: "SHOAL0003",
    resource: { kind: "Proxy", name: node },
    path: "",
    message: `has not taken the new configuration after ${SETTLE_TIMEOUT_MS / 1000} s (see shoal proxy-status)`,
  }));
}

function meshOf(options: { mesh?: MeshDebug | undefined }): MeshDebug {
  if (!options.mesh) throw new ShoalError("NO_MESH", "this cluster runs no mesh control plane");
  return options.mesh;
}

export interface DaemonContext {
  stateDir: string;
  clusterId: string;
  store: ResourceStore;
  log: (event: string, fields?: Record<string, unknown>) => void;
}

/** Starts one part of the daemon; resolves to the function that stops it. */
export type DaemonExtension = (ctx: DaemonContext) => Promise<{ stop(): Promise<void> }>;

export interface DaemonHandle {
  clusterId: string;
  store: ResourceStore;
  reconciler: Reconciler;
  /** The Kubernetes API's address, when the daemon serves it. */
  kubeApi?: KubeApiHandle | undefined;
  /** Resolves when the daemon has stopped (after `stop()` or a shutdown request). */
  stopped: Promise<void>;
  stop(): Promise<void>;
}

async function loadClusterId(stateDir: string, wanted?: string): Promise<string> {
  const file = stateFiles(stateDir).clusterId;
  try {
    const existing = (await readFile(file, "utf8")).trim();
    if (existing) return existing;
  } catch {
    // first start
  }
  const id = wanted ?? `c${randomBytes(3).toString("hex")}`;
  await writeFileDurable(stateDir, "cluster-id", `${id}\n`);
  return id;
}

export async function startDaemon(options: DaemonOptions): Promise<DaemonHandle> {
  const { stateDir, runtime } = options;
  const files = stateFiles(stateDir);
  const log = (event: string, fields: Record<string, unknown> = {}) =>
    (options.log ?? ((l) => process.stderr.write(`${l}\n`)))(
      JSON.stringify({ time: new Date().toISOString(), event, ...fields }),
    );
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await claimPidFile(files.pid, files.socket);
  const startedAt = new Date().toISOString();
  let server: Server | undefined;
  let reconciler: Reconciler | undefined;
  let kubeApi: KubeApiHandle | undefined;
  const started: Array<{ stop(): Promise<void> }> = [];
  try {
    const clusterId = await loadClusterId(stateDir, options.clusterId);
    const store = await ResourceStore.open(stateDir);
    for (const ns of BUILTIN_NAMESPACES)
      if (!store.get({ kind: "Namespace", name: ns }))
        await store.put({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    await syncMeshConfig(store, options.meshConfig, log);
    // Pods a previous daemon left running (after kill -9) keep running and are adopted by the runtime's
    // first apply, so they stay ready and every proxy gets its full endpoints on reconnecting. Any other
    // pod is not ready until the runtime has started it (so no Service sends traffic to it). A runtime
    // that cannot adopt is torn down and rebuilt from the store.
    const stillRunning = runtime.resume ? await runtime.resume(clusterId) : [];
    if (!runtime.resume) await runtime.teardown(clusterId);
    await markPodsNotReady(store, new Set(stillRunning));
    const rec = new Reconciler(store, runtime, clusterId, options.resolve, log, options.clusterConfig);
    reconciler = rec;

    let resolveStopped!: () => void;
    const stopped = new Promise<void>((r) => (resolveStopped = r));
    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> =>
      (stopping ??= (async () => {
        log("daemon stopping", { clusterId });
        rec.stop();
        await kubeApi
          ?.stop()
          .catch((err: Error) => log("kubernetes api stop failed", { error: err.message }));
        for (const ext of started.reverse()) {
          try {
            await ext.stop();
          } catch (err) {
            log("extension stop failed", { error: (err as Error).message });
          }
        }
        await new Promise<void>((r) => {
          if (!server) return r();
          server.close(() => r());
          // Kept-alive and streaming (logs -f) connections would hold close() open: end them once the
          // answer to the shutdown request has been flushed.
          setTimeout(() => server?.closeAllConnections(), 50);
        });
        try {
          await runtime.teardown(clusterId);
        } catch (err) {
          log("teardown failed", { error: (err as Error).message });
        }
        // A pass already under way finishes its store writes before the daemon says it has stopped
        // (the runtime's teardown above ended anything it was waiting for).
        await Promise.race([rec.idle(), new Promise((r) => setTimeout(r, 5000).unref())]);
        await rm(files.socket, { force: true });
        await releasePidFile(files.pid);
        resolveStopped();
      })());

    const api: DaemonApi = {
      health: (): HealthInfo => ({
        pid: process.pid,
        clusterId,
        stateDir,
        startedAt,
        resourceVersion: store.resourceVersion,
      }),
      // A write returns once every proxy it affects has the new config (bounded), so a request sent
      // right after `apply` already meets the new rules.
      apply: async (req) => {
        const result = await applyToStore(store, req);
        if (result.applied.length > 0) result.warnings.push(...(await unsettled(options.mesh)));
        return result;
      },
      list: (q) => {
        const query: { kind?: string; namespace?: string; labelSelector?: ReturnType<typeof parseSelector> } =
          {};
        if (q.kind) query.kind = q.kind;
        if (q.namespace) query.namespace = q.namespace;
        if (q.selector) query.labelSelector = parseSelector(q.selector);
        return store.list(query);
      },
      get: (key) => store.get(key),
      delete: async (key) => {
        // Kubernetes: the default namespace cannot be deleted.
        if (key.kind === "Namespace" && key.name === "default")
          throw new ShoalError(
            "FORBIDDEN",
            'namespaces "default" is forbidden: this namespace may not be deleted',
          );
        const deleted = await store.delete(key);
        if (deleted) await options.mesh?.settle?.(SETTLE_TIMEOUT_MS);
        return deleted;
      },
      execTarget: (namespace, pod, container) =>
        execTarget(
          store.get({ kind: "Pod", namespace, name: pod }),
          clusterId,
          options.resolve,
          namespace,
          pod,
          container,
        ),
      logs: async (q, out, signal) => {
        const target = execTarget(
          store.get({ kind: "Pod", namespace: q.namespace, name: q.pod }),
          clusterId,
          options.resolve,
          q.namespace,
          q.pod,
          q.container,
        );
        const file = runtime.logFile?.(q.namespace, q.pod, target.container);
        if (!file) throw new ShoalError("NO_LOGS", `no logs are kept for pod ${q.namespace}/${q.pod}`);
        await streamFile(file, out, q.follow, signal);
      },
      shutdown: () => void stop(),
      proxyStatus: () => options.mesh?.status() ?? [],
      proxyConfig: async (namespace, pod) => meshOf(options).proxyConfig(namespace, pod),
      proxyCertificates: async (namespace, pod) => meshOf(options).proxyCertificates(namespace, pod),
      ca: async (action, o) => {
        const mesh = meshOf(options);
        if (!mesh.ca) throw new ShoalError("NO_MESH", "this cluster runs no mesh CA");
        return mesh.ca(action, o);
      },
    };
    server = createApiServer(api);
    await new Promise<void>((resolveListen, reject) => {
      server!.once("error", reject);
      server!.listen(files.socket, () => resolveListen());
    });
    await chmod(files.socket, 0o600);
    if (options.kubeApi)
      kubeApi = await startKubeApi({
        stateDir,
        store,
        api,
        ...options.kubeApi,
        logFile: runtime.logFile ? (ns, pod, c) => runtime.logFile!(ns, pod, c) : undefined,
        log,
      });
    for (const ext of options.extensions ?? []) started.push(await ext({ stateDir, clusterId, store, log }));
    rec.start();
    log("daemon ready", { clusterId, stateDir, pid: process.pid, resources: store.list().length });
    return { clusterId, store, reconciler: rec, kubeApi, stopped, stop };
  } catch (err) {
    reconciler?.stop();
    await kubeApi?.stop().catch(() => undefined);
    for (const ext of started.reverse()) await ext.stop().catch(() => undefined);
    server?.close();
    await rm(files.socket, { force: true });
    await releasePidFile(files.pid);
    throw err;
  }
}

async function markPodsNotReady(store: ResourceStore, stillRunning: Set<string>): Promise<void> {
  for (const pod of store.list({ kind: "Pod" })) {
    const status = (pod["status"] ?? {}) as Record<string, unknown>;
    if (status["phase"] !== "Running") continue;
    if (stillRunning.has(`${pod.metadata.namespace ?? "default"}/${pod.metadata.name}`)) continue;
    await store.put({
      ...pod,
      status: {
        ...status,
        phase: "Pending",
        conditions: [{ type: "Ready", status: "False", reason: "DaemonRestarted" }],
      },
    });
  }
}
