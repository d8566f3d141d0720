// `shoal up`: starts the cluster daemon for a state directory, in the background by default (detached,
// ready once its socket answers) or in the foreground with --foreground.
import { spawn } from "node:child_process";
import { mkdir, open, readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { isShoalError, ShoalError } from "../../api/errors.js";
import { startDaemon } from "../../controlplane/daemon.js";
import { OUTSIDE_HOSTS } from "../../controlplane/controllers/cluster-state.js";
import { WORKLOADS_MAIN, imageResolver } from "../../controlplane/controllers/image-resolver.js";
import { LocalRuntime } from "../../controlplane/local-runtime.js";
import { createLocalMesh } from "../../controlplane/mesh/local-mesh.js";
import { RecordingRuntime } from "../../controlplane/runtime-port.js";
import { loadOrCreateOutsidePki } from "../../runtime/outside-pki.js";
import { parseClusterConfig } from "../../runtime/cluster-config.js";
import { loadClusterConfig } from "../../controlplane/cluster-config-file.js";
import { resolveStateDir, stateFiles } from "../../controlplane/state-dir.js";
import { DaemonClient } from "../daemon-client.js";
import { readMeshConfig } from "../../mesh-config/mesh-config.js";
import { meshOverlay } from "../../mesh-config/sources.js";
import { installKubeconfig } from "./kubeconfig.js";
import type { CliIo, Command } from "../io.js";

const READY_TIMEOUT_MS = 30_000;

/** `-f` files and `--set meshConfig.X=V` → the mesh settings given; errors stop `up` here. */
async function meshSettings(files: readonly string[], sets: readonly string[]) {
  const texts: Array<{ text: string; source: string }> = [];
  for (const f of files) {
    try {
      texts.push({ text: await readFile(f, "utf8"), source: f });
    } catch (err) {
      throw new ShoalError("MESH_CONFIG_INVALID", `-f ${f}: ${(err as Error).message}`);
    }
  }
  const overlay = meshOverlay(texts, sets);
  const read = readMeshConfig(overlay.document);
  const errors = [...overlay.errors, ...read.errors];
  if (errors.length > 0) throw new ShoalError("MESH_CONFIG_INVALID", errors.join("\n"));
  return { document: overlay.document, warnings: [...overlay.warnings, ...read.warnings] };
}

async function runForeground(
  stateDir: string,
  clusterId: string | undefined,
  configFile: string | undefined,
  io: CliIo,
  mesh: { files: string[]; sets: string[] },
): Promise<number> {
  const meshConfig =
    mesh.files.length + mesh.sets.length > 0
      ? (await meshSettings(mesh.files, mesh.sets)).document
      : undefined;
  const files = stateFiles(stateDir);
  const clusterConfig = await loadClusterConfig(
    stateDir,
    configFile === undefined ? undefined : await readConfigFile(configFile),
    configFile,
  );
  const log = (line: string) => io.stderr(`${line}\n`);
  const root = process.getuid?.() === 0;
  // The mesh (CA, push server, sidecar tokens) runs where pods do: with the local runtime.
  const localMesh = root ? createLocalMesh() : undefined;
  // The simulated outside world serves HTTPS with a certificate from its own "public" root, kept in the state.
  const outside = root
    ? {
        pki: await loadOrCreateOutsidePki(
          stateDir,
          OUTSIDE_HOSTS.flatMap((h) => h.names),
        ),
        nodeBinary: process.execPath,
        workloadsMain: WORKLOADS_MAIN,
      }
    : undefined;
  const runtime = root
    ? new LocalRuntime(
        files.logs,
        (event, fields) => log(JSON.stringify({ time: new Date().toISOString(), event, ...fields })),
        { beforeStart: (pod, container) => localMesh!.beforeStart(pod, container), outside },
      )
    : new RecordingRuntime();
  if (!root)
    log("not running as root: resources are stored but pods are not started (no network namespaces)");
  const daemon = await startDaemon({
    stateDir,
    runtime,
    resolve: imageResolver,
    log,
    ...(clusterId ? { clusterId } : {}),
    clusterConfig,
    kubeApi: {},
    ...(meshConfig ? { meshConfig } : {}),
    ...(localMesh ? { extensions: [localMesh.extension], mesh: localMesh } : {}),
  });
  const onSignal = () => void daemon.stop();
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  await daemon.stopped;
  process.off("SIGTERM", onSignal);
  process.off("SIGINT", onSignal);
  return 0;
}

async function readConfigFile(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    throw new ShoalError("CLUSTER_CONFIG_INVALID", `--config ${file}: ${(err as Error).message}`);
  }
}

async function runBackground(
  stateDir: string,
  clusterId: string | undefined,
  configFile: string | undefined,
  io: CliIo,
  mesh: { files: string[]; sets: string[] },
): Promise<number> {
  const client = new DaemonClient(stateDir);
  const t0 = performance.now();
  const given = mesh.files.length + mesh.sets.length > 0;
  try {
    const h = await client.health();
    io.stdout(`cluster ${h.clusterId} is already running (daemon pid ${h.pid}, state dir ${stateDir})\n`);
    if (given)
      io.stderr(
        "Warning: the mesh settings given were not applied: the cluster is already running (run `shoal down` first, or edit the istio ConfigMap in istio-system)\n",
      );
    return 0;
  } catch (err) {
    if (!isShoalError(err, "NO_DAEMON")) throw err;
  }
  // A bad config is reported here, before any daemon starts.
  if (configFile !== undefined) parseClusterConfig(await readConfigFile(configFile), configFile);
  // Mesh settings are checked here too; the daemon merges them over the ones the cluster keeps.
  let meshFiles: string[] = [];
  if (given) {
    const checked = await meshSettings(mesh.files, mesh.sets);
    for (const w of checked.warnings) io.stderr(`Warning: ${w}\n`);
    meshFiles = mesh.files.map((f) => resolve(f));
  }
  const files = stateFiles(stateDir);
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const logFile = await open(files.log, "a", 0o600);
  const main = fileURLToPath(new URL("../main.js", import.meta.url));
  const args = [
    main,
    "up",
    "--foreground",
    "--state-dir",
    stateDir,
    ...(clusterId ? ["--cluster-id", clusterId] : []),
    ...(configFile ? ["--config", resolve(configFile)] : []),
    ...meshFiles.flatMap((f) => ["-f", f]),
    ...mesh.sets.flatMap((x) => ["--set", x]),
  ];
  const child = spawn(process.execPath, args, {
    detached: true,
    cwd: "/",
    stdio: ["ignore", logFile.fd, logFile.fd],
  });
  let exited: number | null | undefined;
  child.once("exit", (code) => (exited = code));
  child.unref();
  await logFile.close();
  while (performance.now() - t0 < READY_TIMEOUT_MS) {
    if (exited !== undefined) break;
    try {
      const h = await client.health(1000);
      const ms = Math.round(performance.now() - t0);
      io.stdout(
        `cluster ${h.clusterId} ready in ${(ms / 1000).toFixed(2)}s (daemon pid ${h.pid}, state dir ${stateDir})\n`,
      );
      await installKubeconfig(stateDir, io);
      return 0;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const tail = (await readFile(files.log, "utf8").catch(() => "")).trim().split("\n").slice(-10).join("\n");
  throw new ShoalError(
    "UP_FAILED",
    `the daemon did not become ready${exited !== undefined ? ` (it exited with code ${exited})` : ""}; last lines of ${files.log}:\n${tail}`,
  );
}

export const upCommand: Command = {
  path: ["up"],
  summary: "Start the local cluster (daemon) for a state directory",
  usage:
    "Usage: shoal up [--state-dir DIR] [--foreground] [--cluster-id ID] [--config cluster.yaml]\n" +
    "                [-f iop.yaml] [--set meshConfig.X=V]...\n\n" +
    "  --state-dir DIR   where the cluster keeps its resources (default $SHOAL_STATE_DIR or ~/.shoal)\n" +
    "  --foreground      run the daemon in this process instead of in the background\n" +
    "  --cluster-id ID   id used in every name the cluster creates (first start only)\n" +
    "  --config FILE     nodes (labels, taints) and the outside world's firewall (kind: Cluster); kept in\n" +
    "                    the state directory, so later starts restore it (samples/egress-gateway/cluster.yaml)\n" +
    "  -f, --filename F  mesh settings: an IstioOperator (its spec.meshConfig), the istio ConfigMap, or a\n" +
    "                    meshConfig mapping; repeatable, later files win\n" +
    "  --set meshConfig.X=V  one mesh setting (e.g. meshConfig.accessLogEncoding=JSON); repeatable\n" +
    "                    Mesh settings are kept (ConfigMap istio in istio-system) and merged over on later starts;\n" +
    "                    `shoal x mesh-config` shows them",
  async run(args, io) {
    const { values } = parseArgs({
      args,
      options: {
        "state-dir": { type: "string" },
        foreground: { type: "boolean", default: false },
        "cluster-id": { type: "string" },
        config: { type: "string" },
        filename: { type: "string", short: "f", multiple: true },
        set: { type: "string", multiple: true },
      },
      strict: true,
    });
    const stateDir = resolveStateDir(values["state-dir"]);
    const mesh = { files: values.filename ?? [], sets: values.set ?? [] };
    return values.foreground
      ? runForeground(stateDir, values["cluster-id"], values.config, io, mesh)
      : runBackground(stateDir, values["cluster-id"], values.config, io, mesh);
  },
};
