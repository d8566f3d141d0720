// Reads process state from /proc: whether a PID still runs (a zombie waiting to be reaped by init does
// not count), which live processes remain in a process group, and when a process started.
import { readFileSync, readdirSync } from "node:fs";

interface Stat {
  state: string;
  pgrp: number;
}

function stat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may contain spaces: fields resume after the last ")".
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0] ?? "", pgrp: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

/** True while `pid` exists and is not a zombie. */
export function isRunning(pid: number): boolean {
  const s = stat(pid);
  return s !== undefined && s.state !== "Z" && s.state !== "X";
}

/** PIDs of the live (non-zombie) processes in process group `pgid`. */
export function liveGroupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  return entries
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => {
      const s = stat(pid);
      return s !== undefined && s.pgrp === pgid && s.state !== "Z" && s.state !== "X";
    });
}

/** The kernel start time of `pid` (clock ticks since boot): with the PID, it names one process for good. */
export function startTime(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 22 overall; after the command name, state is field 3, so starttime is index 19 from there.
    const value = Number(text.slice(text.lastIndexOf(")") + 2).split(" ")[19]);
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
