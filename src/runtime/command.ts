// Runs one host command (ip, iptables-restore, sysctl) without a shell and turns a failure into a
// ShoalError that names the command line and quotes its stderr.
import { execFile } from "node:child_process";
import { ShoalError } from "../api/errors.js";

export interface CommandResult {
  stdout: string;
  stderr: string;
}

/** A readable command line for error messages. */
export function describeCommand(file: string, args: readonly string[]): string {
  return [file, ...args]
    .map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`))
    .join(" ");
}

/** Runs `file args…`, writing `input` to its stdin; rejects with RUNTIME_COMMAND_FAILED on a non-zero exit. */
export function runCommand(file: string, args: readonly string[], input?: string): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          const detail = stderr.trim() || err.message;
          const exit = typeof err.code === "number" ? `exit ${err.code}` : String(err.code ?? "failed");
          reject(
            new ShoalError("RUNTIME_COMMAND_FAILED", `${describeCommand(file, args)}: ${exit}: ${detail}`, {
              cause: err,
            }),
          );
          return;
        }
        resolve({ stdout, stderr });
      },
    );
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(input ?? "");
  });
}
