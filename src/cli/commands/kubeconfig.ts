// `shoal kubeconfig` prints a kubeconfig for the running cluster's Kubernetes API alone; `shoal up` and
// `shoal down` add and remove the `shoal` context in the user's kubeconfig (as kind does).
import { mkdir, readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { ShoalError } from "../../api/errors.js";
import { writeFileAtomic } from "../../ca/atomic-file.js";
import {
  CONTEXT,
  kubeconfigFor,
  mergeKubeconfig,
  removeFromKubeconfig,
  renderKubeconfig,
  userKubeconfigPath,
} from "../../controlplane/kube-api/kubeconfig.js";
import { kubeApiDir } from "../../controlplane/kube-api/pki.js";
import type { KubeApiPki } from "../../controlplane/kube-api/pki.js";
import { readKubeApiUrl } from "../../controlplane/kube-api/server.js";
import { resolveStateDir } from "../../controlplane/state-dir.js";
import { DaemonClient } from "../daemon-client.js";
import type { CliIo, Command } from "../io.js";

/** The cluster's kubeconfig (only its own cluster, user and context), from the state directory. */
export async function clusterKubeconfig(stateDir: string): Promise<string> {
  const url = await readKubeApiUrl(stateDir);
  const dir = kubeApiDir(stateDir);
  const read = (f: string) => readFile(join(dir, f), "utf8").catch(() => undefined);
  const [caPem, clientCertPem, clientKeyPem] = await Promise.all([
    read("ca.pem"),
    read("admin.pem"),
    read("admin-key.pem"),
  ]);
  if (!url || !caPem || !clientCertPem || !clientKeyPem)
    throw new ShoalError(
      "NO_KUBE_API",
      `the cluster in ${stateDir} does not serve the Kubernetes API (start it with: shoal up)`,
    );
  const pki: KubeApiPki = { caPem, clientCertPem, clientKeyPem, serverCertPem: "", serverKeyPem: "" };
  return renderKubeconfig(kubeconfigFor(pki, url));
}

/** Adds (or refreshes) the `shoal` context in the user's kubeconfig and makes it current. */
export async function installKubeconfig(stateDir: string, io: CliIo): Promise<void> {
  const ours = await clusterKubeconfig(stateDir);
  const path = userKubeconfigPath(process.env, homedir());
  const existing = await readFile(path, "utf8").catch(() => "");
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const { parse } = await import("yaml");
  await writeFileAtomic(path, mergeKubeconfig(existing, parse(ours)), 0o600);
  io.stdout(`Set kubectl context to "${CONTEXT}" (${path})\n`);
}

/** Removes the `shoal` context from the user's kubeconfig, if it is there. */
export async function uninstallKubeconfig(io: CliIo): Promise<void> {
  const path = userKubeconfigPath(process.env, homedir());
  const existing = await readFile(path, "utf8").catch(() => undefined);
  if (existing === undefined || !existing.includes(CONTEXT)) return;
  const next = removeFromKubeconfig(existing);
  if (next === existing) return;
  await writeFileAtomic(path, next, 0o600);
  io.stdout(`Deleted context "${CONTEXT}" from ${path}\n`);
}

export const kubeconfigCommand: Command = {
  path: ["kubeconfig"],
  summary: "Print a kubeconfig for the running cluster's Kubernetes API",
  usage:
    "Usage: shoal kubeconfig [--state-dir DIR]\n\n  kubectl --kubeconfig <(shoal kubeconfig) get pods -A",
  async run(args, io) {
    const { values } = parseArgs({ args, options: { "state-dir": { type: "string" } }, strict: true });
    const stateDir = resolveStateDir(values["state-dir"]);
    await new DaemonClient(stateDir).health();
    io.stdout(await clusterKubeconfig(stateDir));
    return 0;
  },
};
