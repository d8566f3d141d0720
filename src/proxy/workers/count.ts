// How many processes a gateway proxy runs, from its `--workers` argument (pure). Unset: one per CPU, at
// most 4 (beyond that the application and the clients need the cores). `--workers 0` is Istio's
// `concurrency: 0`, "use all cores": one per CPU, at most 64. 1 is one process with no workers.

/** The most workers a gateway runs. */
export const MAX_WORKERS = 64;
/** The default's cap. */
const DEFAULT_CAP = 4;

/** The worker count for `--workers arg` on a machine with `cpus` CPUs; throws on a bad value. */
export function gatewayWorkerCount(arg: string | undefined, cpus: number): number {
  const all = Math.max(1, cpus);
  if (arg === undefined) return Math.min(all, DEFAULT_CAP);
  const n = /^\d+$/.test(arg) ? Number(arg) : NaN;
  if (!Number.isInteger(n) || n > MAX_WORKERS)
    throw new Error(`--workers: "${arg}" is not a number of workers (0 = one per CPU, or 1-${MAX_WORKERS})`);
  return n === 0 ? Math.min(all, MAX_WORKERS) : n;
}
