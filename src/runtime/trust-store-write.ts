// Writes a cluster's trust store (see trust-store.ts) from the outside world's root and the host's CA
// bundle. Runs as `main.js trust-store --root FILE --bundle FILE --extra-roots FILE`, the first step of
// the outside world's unit, so the files exist before any pod starts.
import { mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { writeFileAtomic } from "../ca/atomic-file.js";
import { ShoalError } from "../api/errors.js";
import { OS_BUNDLES, renderTrustBundle, type TrustFiles } from "./trust-store.js";

async function firstReadable(paths: readonly string[]): Promise<string | undefined> {
  for (const path of paths) {
    const text = await readFile(path, "utf8").catch(() => undefined);
    if (text !== undefined) return text;
  }
  return undefined;
}

/** Writes both files world-readable (pods run as many uids); the host bundle is optional. */
export async function writeTrustStore(
  rootFile: string,
  files: TrustFiles,
  osBundles: readonly string[] = OS_BUNDLES,
): Promise<void> {
  const root = await readFile(rootFile, "utf8");
  await mkdir(dirname(files.bundle), { recursive: true, mode: 0o755 });
  await mkdir(dirname(files.extraRoots), { recursive: true, mode: 0o755 });
  await writeFileAtomic(files.extraRoots, root, 0o644);
  await writeFileAtomic(files.bundle, renderTrustBundle(await firstReadable(osBundles), root), 0o644);
}

function flag(args: string[], name: string): string {
  const i = args.indexOf(name);
  const value = i >= 0 ? args[i + 1] : undefined;
  if (value === undefined) throw new ShoalError("WORKLOAD_ARGS", `trust-store: ${name} FILE is required`);
  return value;
}

/** Exits 0 even when writing fails (saying so): without a trust store pods still run, they just do not trust the outside world. */
export async function runTrustStoreCommand(
  args: string[],
  io: { out: (text: string) => void; err: (text: string) => void },
): Promise<number> {
  const files = { bundle: flag(args, "--bundle"), extraRoots: flag(args, "--extra-roots") };
  try {
    await writeTrustStore(flag(args, "--root"), files);
    io.out(`trust store written: ${files.bundle}, ${files.extraRoots}\n`);
  } catch (err) {
    io.err(`trust store not written (pods will not trust the outside world): ${(err as Error).message}\n`);
  }
  return 0;
}
