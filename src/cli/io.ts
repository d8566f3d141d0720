// The CLI's view of the outside world, passed to every command so commands can be tested in-process.
import { ShoalError } from "../api/errors.js";

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Reads all of standard input (for `-f -`). */
  readStdin: () => Promise<string>;
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  },
};

/** A command: parses its own arguments and returns the process exit code. */
export interface Command {
  /** Words that select it, e.g. ["analyze"] or ["x", "authz", "check"]. */
  path: string[];
  summary: string;
  usage: string;
  run(args: string[], io: CliIo): Promise<number>;
}

/** A command as the command table lists it: found and summarised without loading its module. */
export interface CommandEntry {
  path: string[];
  /** Other word paths that select it (istioctl's short forms: `pc`, `ps`). */
  aliases?: string[][];
  summary: string;
  /** Imports the module that implements it. */
  load(): Promise<Command>;
}

/** A user mistake on the command line: printed with the usage, exit code 2. */
export class UsageError extends ShoalError {
  constructor(message: string) {
    super("USAGE", message);
  }
}
