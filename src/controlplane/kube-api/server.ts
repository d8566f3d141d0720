// The daemon's Kubernetes API front door: HTTPS on 127.0.0.1 with client-certificate authentication,
// the PKI and port kept in the state directory so a kubeconfig written once stays valid across restarts.
import { readFile } from "node:fs/promises";
import { createServer } from "node:https";
import type { Server } from "node:https";
import { join } from "node:path";
import { writeFileAtomic } from "../../ca/atomic-file.js";
import type { DaemonApi } from "../api-server.js";
import type { ResourceStore } from "../store.js";
import type { KubeBackend, PodExec } from "./backend.js";
import { handleExecUpgrade } from "./pod-exec.js";
import { EventLog } from "./events.js";
import { kubeApiDir, loadOrCreateKubeApiPki } from "./pki.js";
import type { KubeApiPki } from "./pki.js";
import { kubeApiHandler } from "./router.js";
import { WatchCache } from "./watch-cache.js";

export interface KubeApiOptions {
  stateDir: string;
  store: ResourceStore;
  api: DaemonApi;
  /** 0 picks a free port; undefined reuses the one kept in the state directory (or picks one). */
  port?: number;
  logFile?: KubeBackend["logFile"];
  exec?: PodExec;
  bookmarkMs?: number;
  log?: (event: string, fields?: Record<string, unknown>) => void;
}

export interface KubeApiHandle {
  url: string;
  port: number;
  pki: KubeApiPki;
  /** Open watch streams (for tests that must not race a watch's start). */
  watchers(): number;
  stop(): Promise<void>;
}

export function portFile(stateDir: string): string {
  return join(kubeApiDir(stateDir), "port");
}

/** The API's address as kept in the state directory (`https://127.0.0.1:PORT`), if it ever started. */
export async function readKubeApiUrl(stateDir: string): Promise<string | undefined> {
  const port = Number((await readFile(portFile(stateDir), "utf8").catch(() => "")).trim());
  return port > 0 ? `https://127.0.0.1:${port}` : undefined;
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once("error", onError);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", onError);
      const addr = server.address();
      resolve(typeof addr === "object" && addr ? addr.port : port);
    });
  });
}

export async function startKubeApi(o: KubeApiOptions): Promise<KubeApiHandle> {
  const pki = await loadOrCreateKubeApiPki(o.stateDir);
  const cache = new WatchCache(o.store);
  const events = new EventLog(cache);
  const closing = new AbortController();
  const backend: KubeBackend = {
    store: o.store,
    api: o.api,
    cache,
    events,
    startedAt: new Date().toISOString(),
    logFile: o.logFile,
    exec: o.exec,
    ...(o.bookmarkMs !== undefined ? { bookmarkMs: o.bookmarkMs } : {}),
    ...(o.log ? { log: o.log } : {}),
  };
  const server = createServer(
    {
      key: pki.serverKeyPem,
      cert: pki.serverCertPem,
      ca: pki.caPem,
      // The certificate is checked per request, so a client without one gets a 401 Status, not a reset.
      requestCert: true,
      rejectUnauthorized: false,
    },
    kubeApiHandler(backend, closing.signal),
  );
  server.on("upgrade", (req, socket) => handleExecUpgrade(backend, req, socket));
  const kept = Number((await readFile(portFile(o.stateDir), "utf8").catch(() => "")).trim()) || 0;
  let port: number;
  try {
    port = await listen(server, o.port ?? kept);
  } catch (err) {
    // The kept port is taken (by something else): pick a new one; `shoal kubeconfig` prints it.
    if (o.port !== undefined || kept === 0) throw err;
    port = await listen(server, 0);
  }
  await writeFileAtomic(portFile(o.stateDir), `${port}\n`, 0o600);
  const url = `https://127.0.0.1:${port}`;
  o.log?.("kubernetes api ready", { url });
  return {
    url,
    port,
    pki,
    watchers: () => cache.subscriberCount,
    stop: async () => {
      closing.abort();
      events.close();
      cache.close();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
    },
  };
}
