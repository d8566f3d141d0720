// Who owns a state directory: the pid file, and telling a live daemon from one that was killed -9.
import { readFile, rm, writeFile } from "node:fs/promises";
import { ShoalError } from "../api/errors.js";

export async function readPid(path: string): Promise<number | undefined> {
  try {
    const n = Number((await readFile(path, "utf8")).trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** True when `pid` is a running shoal daemon (not merely a recycled pid of some other program). */
export async function isDaemonProcess(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0");
    return cmdline.includes("up") && cmdline.includes("--foreground");
  } catch {
    return true; // no /proc: trust the signal check
  }
}

/**
 * Claims the state directory for this process: fails when a live daemon owns it, removes the pid file
 * and socket a dead one left behind, then writes our pid (exclusively, so two racing daemons cannot
 * both win).
 */
export async function claimPidFile(pidPath: string, socketPath: string): Promise<void> {
  const existing = await readPid(pidPath);
  if (existing !== undefined && (existing === process.pid || (await isDaemonProcess(existing))))
    throw new ShoalError("ALREADY_RUNNING", `a cluster is already running here (daemon pid ${existing})`);
  await rm(pidPath, { force: true });
  await rm(socketPath, { force: true });
  try {
    await writeFile(pidPath, `${process.pid}\n`, { flag: "wx", mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST")
      throw new ShoalError("ALREADY_RUNNING", "another daemon is starting in this state directory");
    throw err;
  }
}

export async function releasePidFile(pidPath: string): Promise<void> {
  if ((await readPid(pidPath)) === process.pid) await rm(pidPath, { force: true });
}
