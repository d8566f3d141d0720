// Runs `shoal` commands in-process with captured output, for CLI tests.
import { dispatch } from "../cli/dispatch.js";
import type { CliIo } from "../cli/io.js";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(argv: string[], stdin = ""): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    readStdin: async () => stdin,
  };
  const code = await dispatch(argv, io);
  return { code, stdout, stderr };
}
