// Picks the command for the words on the command line and turns errors into exit codes.
import { isShoalError } from "../api/errors.js";
import { COMMANDS } from "./commands/index.js";
import type { CliIo, Command } from "./io.js";
import { UsageError } from "./io.js";

function help(commands: Command[]): string {
  const lines = commands.map((c) => `  ${c.path.join(" ").padEnd(22)} ${c.summary}`);
  return `shoal — a service mesh that speaks Istio's configuration API\n\nUsage: shoal COMMAND [options]\n\nCommands:\n${lines.join("\n")}\n\nRun 'shoal COMMAND --help' for a command's options.\n`;
}

/** Finds the command with the longest matching word path. */
export function findCommand(
  argv: string[],
  commands: Command[] = COMMANDS,
): { command: Command; rest: string[] } | undefined {
  let best: Command | undefined;
  for (const c of commands) {
    if (c.path.every((w, i) => argv[i] === w) && (!best || c.path.length > best.path.length)) best = c;
  }
  return best ? { command: best, rest: argv.slice(best.path.length) } : undefined;
}

export async function dispatch(argv: string[], io: CliIo, commands: Command[] = COMMANDS): Promise<number> {
  if (argv.length === 0 || argv[0] === "help" || argv[0] === "--help" || argv[0] === "-h") {
    io.stdout(help(commands));
    return 0;
  }
  const found = findCommand(argv, commands);
  if (!found) {
    io.stderr(`shoal: unknown command "${argv.join(" ")}"\n\n${help(commands)}`);
    return 2;
  }
  const { command, rest } = found;
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`shoal ${command.path.join(" ")}: ${err.message}\n\n${command.usage}\n`);
      return 2;
    }
    if (isShoalError(err)) {
      io.stderr(`Error: ${err.message}\n`);
      return 1;
    }
    if (err instanceof Error && String((err as NodeJS.ErrnoException).code).startsWith("ERR_PARSE_ARGS")) {
      io.stderr(`shoal ${command.path.join(" ")}: ${err.message}\n\n${command.usage}\n`);
      return 2;
    }
    io.stderr(`Error: unexpected failure: ${(err as Error)?.message ?? String(err)}\n`);
    return 1;
  }
}
