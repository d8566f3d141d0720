// Fuzz target 1: the YAML loader and validation (what every `shoal apply` and kubectl write runs:
// parse, then validate each document). Every input must either load or give diagnostics / a ShoalError;
// any other exception, or more than 2 s on one input, is a finding. Inputs run in a worker thread so a
// hang is caught and the worker replaced; each input is regenerated from (seed, index) for the report.
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { stringify } from "yaml";
import { isShoalError } from "../../src/api/errors.js";
import { validateApply } from "../../src/controlplane/apply.js";
import type { Finding, TargetResult } from "./report.js";
import { inputRand, int, mutateText, mutateValue, pick } from "./mutate.js";
import { manifestObjects, manifestSeeds } from "./seeds.js";

/** A hang: one input using more than 2 s of CPU (the process's CPU is the worker's: the main thread
 *  only polls), or 30 s of wall time. CPU, not wall time, because the machine may be shared. */
const HANG_CPU_MS = 2000;
const HANG_WALL_MS = 30_000;
/** Inputs are cut to this size: a manifest is a few KiB, and the YAML library alone parses ~100 KiB/s
 *  on a loaded machine, so a bigger input measures the machine, not a hang. */
export const MAX_INPUT = 64 * 1024;

/** Input `index` of a run: a byte-mutated seed text, or a structurally mutated seed object as YAML. */
export function yamlInput(seeds: string[], objects: unknown[], seed: number, index: number): string {
  return generate(seeds, objects, seed, index).slice(0, MAX_INPUT);
}

function generate(seeds: string[], objects: unknown[], seed: number, index: number): string {
  const rand = inputRand(seed, index);
  if (rand() < 0.5) return mutateText(rand, pick(rand, seeds), pick(rand, seeds));
  const docs = Array.from({ length: 1 + int(rand, 3) }, () =>
    mutateValue(rand, pick(rand, objects), objects),
  );
  return docs
    .map((d) => {
      try {
        return stringify(d, { aliasDuplicateObjects: false });
      } catch {
        return JSON.stringify(d) ?? "null";
      }
    })
    .join("---\n");
}

/** Runs one input; a thrown error that is not a ShoalError is returned as the finding's message. */
export function runYamlInput(text: string): string | undefined {
  try {
    const r = validateApply({ documents: [{ text, source: "fuzz.yaml" }] }, () => true);
    for (const e of r.errors)
      if (typeof e.message !== "string" || e.message === "")
        return `an error diagnostic with no message: ${JSON.stringify(e)}`;
    return undefined;
  } catch (err) {
    if (isShoalError(err)) return undefined;
    return `${(err as Error)?.stack ?? String(err)}`;
  }
}

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

interface WorkerData {
  root: string;
  seed: number;
  from: number;
  progress: SharedArrayBuffer;
}

if (!isMainThread && (workerData as { target?: string })?.target === "yaml") {
  const { root, seed, from, progress } = workerData as WorkerData & { target: string };
  const seeds = manifestSeeds(root);
  const objects = manifestObjects(seeds);
  const counter = new Int32Array(progress);
  parentPort!.postMessage({ ready: true });
  for (let i = from; ; i++) {
    Atomics.store(counter, 0, i);
    const problem = runYamlInput(yamlInput(seeds, objects, seed, i));
    if (problem) parentPort!.postMessage({ index: i, problem });
    Atomics.store(counter, 1, i + 1);
  }
}

export async function fuzzYaml(root: string, seed: number, seconds: number): Promise<TargetResult> {
  const seeds = manifestSeeds(root);
  const objects = manifestObjects(seeds);
  const findings: Finding[] = [];
  const progress = new SharedArrayBuffer(8);
  const counter = new Int32Array(progress);
  const deadline = Date.now() + seconds * 1000;
  let from = 0;
  let done = 0;
  while (Date.now() < deadline) {
    const worker = new Worker(new URL(import.meta.url), {
      workerData: { target: "yaml", root, seed, from, progress },
    });
    let ready = false;
    worker.on("message", (m: { index: number; problem: string; ready?: boolean }) => {
      if (m.ready) ready = true;
      else
        findings.push({
          kind: "exception",
          index: m.index,
          message: m.problem,
          input: yamlInput(seeds, objects, seed, m.index),
        });
    });
    let crashed: Error | undefined;
    worker.on("error", (err) => (crashed = err));
    // Loading the modules is not an input: the clock starts once the worker says it is ready.
    while (!ready && !crashed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    let last = -1;
    let since = Date.now();
    let cpuSince = process.cpuUsage();
    let hung = false;
    while (Date.now() < deadline && !crashed) {
      await new Promise((r) => setTimeout(r, 100));
      const current = Atomics.load(counter, 0);
      const finished = Atomics.load(counter, 1);
      if (finished > current || current !== last) {
        last = current;
        since = Date.now();
        cpuSince = process.cpuUsage();
      } else if (cpuMs(process.cpuUsage(cpuSince)) > HANG_CPU_MS || Date.now() - since > HANG_WALL_MS) {
        hung = true;
        break;
      }
    }
    await worker.terminate();
    const current = Atomics.load(counter, 0);
    done = Atomics.load(counter, 1);
    if (hung || crashed) {
      findings.push({
        kind: hung ? "hang" : "crash",
        index: current,
        message: hung
          ? `no answer after ${cpuMs(process.cpuUsage(cpuSince)).toFixed(0)} ms of CPU, ${Date.now() - since} ms`
          : String(crashed?.stack ?? crashed),
        input: yamlInput(seeds, objects, seed, current),
      });
      from = current + 1;
      Atomics.store(counter, 0, from);
      Atomics.store(counter, 1, from);
    } else break;
  }
  return { target: "yaml", inputs: done, findings, notes: [`${seeds.length} seed manifests`] };
}
