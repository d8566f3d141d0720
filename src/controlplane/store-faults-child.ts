// The processes the store fault tests run: a writer that applies in a loop and prints each write once it
// is acknowledged (to be killed -9 at a random point), and a daemon whose resource directory is a tiny
// tmpfs, driven through kubectl and `shoal apply` until the disk is full.
// Usage: node store-faults-child.js writer STATE_DIR SEED | diskfull STATE_DIR
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { writeSync } from "node:fs";
import { open, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AnyResource } from "../api/meta.js";
import { prng } from "../testing/prng.js";
import { ResourceStore } from "./store.js";

/** The lines the writer prints: the write it is about to make, and each write once acknowledged. */
export interface AckedWrite {
  op: "intent" | "put" | "delete";
  name: string;
  rv: string;
  /** sha256 of data.body for a put (the resource carries it too, so a half-written one shows). */
  sum?: string;
}

export const sha = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 16);

/** The seeded PRNG (a failing round can be replayed from its seed), re-exported for the test. */
export { prng };

export function configMap(name: string, body: string): AnyResource {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: "foo" },
    data: { body, sum: sha(body) },
  };
}

async function writer(dir: string, seed: number): Promise<void> {
  const rand = prng(seed);
  const store = await ResourceStore.open(dir);
  writeSync(1, "ready\n");
  for (let i = 0; ; i++) {
    const name = `cm${Math.floor(rand() * 8)}`;
    writeSync(1, `${JSON.stringify({ op: "intent", name, rv: "" })}\n`);
    if (rand() < 0.2) {
      const gone = await store.delete({ kind: "ConfigMap", namespace: "foo", name });
      if (gone)
        writeSync(1, `${JSON.stringify({ op: "delete", name, rv: String(store.resourceVersion) })}\n`);
      continue;
    }
    // Sizes from a few bytes to ~200 KB widen the window in which a kill lands mid-write.
    const body = `${seed}:${i}:`.padEnd(
      Math.floor(rand() ** 3 * 200_000) + 8,
      String.fromCharCode(97 + (i % 26)),
    );
    const { resource } = await store.put(configMap(name, body));
    const ack: AckedWrite = { op: "put", name, rv: resource.metadata.resourceVersion!, sum: sha(body) };
    writeSync(1, `${JSON.stringify(ack)}\n`);
  }
}

function run(cmd: string, args: string[], env: Record<string, string>, stdin = ""): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill("SIGTERM"), 30_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

const yamlOf = (name: string, body: string) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}, namespace: foo}\ndata: {body: "${body}"}\n`;

/** Fills the file system holding `dir` to the last byte. */
async function fill(dir: string): Promise<void> {
  const fh = await open(join(dir, "filler"), "w");
  try {
    for (let chunk = 64 * 1024; chunk >= 1;) {
      try {
        await fh.write(Buffer.alloc(chunk));
      } catch {
        chunk = Math.floor(chunk / 2);
      }
    }
  } finally {
    await fh.close();
  }
}

/** One command's outcome. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** What the disk-full child observed (printed as one JSON line; the test asserts on it). */
export interface DiskFullReport {
  resourceDir: string;
  runs: Record<string, Run>;
  /** `data` of ConfigMap foo/cm as served by the daemon, or read by reopening the store. */
  served: Record<string, { body: string } | undefined>;
  filesWhenFull: string[];
}

async function diskfull(stateDir: string): Promise<void> {
  // Loaded here so the writer (started many times) loads only the store.
  const { commandOnlyResolver } = await import("./controllers/containers.js");
  const { startDaemon } = await import("./daemon.js");
  const { kubeconfigFor, renderKubeconfig } = await import("./kube-api/kubeconfig.js");
  const { RecordingRuntime } = await import("./runtime-port.js");
  const daemon = await startDaemon({
    stateDir,
    runtime: new RecordingRuntime(),
    resolve: commandOnlyResolver,
    clusterId: "sf1",
    log: () => {},
    kubeApi: { port: 0 },
  });
  const out: DiskFullReport = { resourceDir: "", runs: {}, served: {}, filesWhenFull: [] };
  const runs = out.runs;
  try {
    const api = daemon.kubeApi!;
    const kubeconfig = join(stateDir, "test-kubeconfig");
    await writeFile(kubeconfig, renderKubeconfig(kubeconfigFor(api.pki, api.url)), { mode: 0o600 });
    const kubectl = (args: string[], stdin?: string) =>
      run(
        "/usr/bin/kubectl",
        [`--kubeconfig=${kubeconfig}`, `--cache-dir=${join(stateDir, "kcache")}`, ...args],
        {
          HOME: stateDir,
        },
        stdin,
      );
    const shoalMain = fileURLToPath(new URL("../cli/main.js", import.meta.url));
    const shoalApply = (text: string) =>
      run(process.execPath, [shoalMain, "apply", "-f", "-"], { SHOAL_STATE_DIR: stateDir }, text);
    const served = () =>
      daemon.store.get({ kind: "ConfigMap", namespace: "foo", name: "cm" })?.["data"] as
        { body: string } | undefined;
    const resourceDir = join(stateDir, "resources");

    runs["createNs"] = await kubectl(["create", "ns", "foo"]);
    runs["small"] = await kubectl(["apply", "-f", "-"], yamlOf("cm", "v1"));
    // Bigger than the whole file system: the write cannot succeed.
    runs["bigKubectl"] = await kubectl(["apply", "-f", "-"], yamlOf("cm", "x".repeat(300_000)));
    runs["bigShoal"] = await shoalApply(yamlOf("cm", "y".repeat(300_000)));
    out.served["servedAfterBig"] = served();
    // Full to the last byte: even a small update has nowhere to go.
    await fill(resourceDir);
    runs["smallFullKubectl"] = await kubectl(["apply", "-f", "-"], yamlOf("cm", "v2"));
    runs["smallFullShoal"] = await shoalApply(yamlOf("cm", "v3"));
    runs["newFullKubectl"] = await kubectl(["apply", "-f", "-"], yamlOf("other", "v1"));
    out.served["servedWhenFull"] = served();
    runs["getWhenFull"] = await kubectl([
      "get",
      "configmap",
      "cm",
      "-n",
      "foo",
      "-o",
      "jsonpath={.data.body}",
    ]);
    out.filesWhenFull = (await readdir(resourceDir)).sort();
    const reopened = await ResourceStore.open(stateDir);
    out.served["reopenedWhenFull"] = reopened.get({ kind: "ConfigMap", namespace: "foo", name: "cm" })?.[
      "data"
    ] as { body: string } | undefined;
    // Space freed: writes work again.
    await rm(join(resourceDir, "filler"));
    runs["afterFree"] = await kubectl(["apply", "-f", "-"], yamlOf("cm", "v4"));
    out.served["servedAfterFree"] = served();
    out.resourceDir = resourceDir;
  } finally {
    await daemon.stop();
  }
  writeSync(1, `${JSON.stringify(out)}\n`);
}

const [mode, dir, seed] = process.argv.slice(2);
if (mode === "writer") await writer(dir!, Number(seed));
else if (mode === "diskfull") await diskfull(dir!);
