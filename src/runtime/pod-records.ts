// What the supervisor leaves in each pod's directory so a restarted daemon can find the pod's processes
// again: `pod.json` (the PodState its containers were started from) and one shim directory per container
// under `containers/` (see shim.ts). Also: which recorded pods still run, whether a recorded pod is the
// one wanted now (same processes), and killing what a recorded pod left running.
import { isDeepStrictEqual } from "node:util";
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { PodState } from "./cluster-state.js";
import { killGroup } from "./container-runner.js";
import { readShimRecord, shimAlive, shimFiles } from "./shim.js";

const POD_FILE = "pod.json";
const CONTAINERS_DIR = "containers";

/** A container's shim directory inside its pod's directory. */
export function containerShimDir(podDir: string, container: string): string {
  return join(podDir, CONTAINERS_DIR, container);
}

/** What makes a pod's processes need a restart (its network and hosts file converge in place). */
function processIdentity(p: PodState): unknown {
  return { uid: p.uid, ip: p.ip, netns: p.netns, containers: p.containers, serviceAccount: p.serviceAccount };
}

/** Whether processes started for `a` are what `b` wants running. */
export function sameProcesses(a: PodState, b: PodState): boolean {
  return isDeepStrictEqual(processIdentity(a), processIdentity(b));
}

export function writePodRecord(podDir: string, pod: PodState): void {
  mkdirSync(podDir, { recursive: true, mode: 0o700 });
  const file = join(podDir, POD_FILE);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(pod)}\n`);
  renameSync(`${file}.tmp`, file);
}

export function readPodRecord(podDir: string): PodState | undefined {
  try {
    const pod = JSON.parse(readFileSync(join(podDir, POD_FILE), "utf8")) as PodState;
    return typeof pod.namespace === "string" && Array.isArray(pod.containers) ? pod : undefined;
  } catch {
    return undefined;
  }
}

/** Forgets a pod's processes (the rest of its directory, such as the sidecar's token, is not ours). */
export function removePodRecord(podDir: string): void {
  rmSync(join(podDir, POD_FILE), { force: true });
  rmSync(join(podDir, CONTAINERS_DIR), { recursive: true, force: true });
}

/** Every recorded pod under `root` (one directory per pod). */
export function listPodRecords(root: string): Array<{ dir: string; pod: PodState }> {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  return names.sort().flatMap((name) => {
    const dir = join(root, name);
    const pod = readPodRecord(dir);
    return pod === undefined ? [] : [{ dir, pod }];
  });
}

/** The shim records of a recorded pod's containers, by container name (absent: never started). */
export function containerRecords(podDir: string, pod: PodState) {
  return pod.containers.map((c) => ({
    container: c.name,
    record: readShimRecord(shimFiles(containerShimDir(podDir, c.name))),
  }));
}

/** True when some container of the recorded pod still runs under its shim. */
export function podStillRuns(podDir: string, pod: PodState): boolean {
  return containerRecords(podDir, pod).some((c) => c.record !== undefined && shimAlive(c.record));
}

/** Kills every process group a recorded pod's shims still lead, and forgets the pod. */
export async function killRecordedPod(podDir: string): Promise<void> {
  const pod = readPodRecord(podDir);
  if (pod !== undefined)
    for (const { record } of containerRecords(podDir, pod))
      if (record !== undefined && shimAlive(record)) await killGroup(record.shimPid);
  removePodRecord(podDir);
}
