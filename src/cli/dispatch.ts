// Picks the command for the words on the command line, loads only that command's module, and turns errors
// into exit codes.
import { isShoalError } from "../api/errors.js";
import { COMMANDS } from "./commands/index.js";
import type { CliIo, Command, CommandEntry } from "./io.js";
import { UsageError } from "./io.js";

function help(commands: CommandEntry[]): string {
  const lines = commands.map((c) => {
    const words = [c.path, ...(c.aliases ?? [])].map((p) => p.join(" ")).join(", ");
    return `  ${words.padEnd(22)} ${c.summary}`;
  });
  return `shoal — a service mesh that speaks Istio's configuration API\n\nUsage: shoal COMMAND [options]\n\nCommands:\n${lines.join("\n")}\n\nRun 'shoal COMMAND --help' for a command's options.\n`;
}

/** Finds the command with the longest matching word path (its own or an alias). */
export function findCommand(
  argv: string[],
  commands: CommandEntry[] = COMMANDS,
): { command: CommandEntry; rest: string[] } | undefined {
  let best: { command: CommandEntry; length: number } | undefined;
  for (const c of commands)
    for (const path of [c.path, ...(c.aliases ?? [])])
      if (path.every((w, i) => argv[i] === w) && (!best || path.length > best.length))
        best = { command: c, length: path.length };
  return best ? { command: best.command, rest: argv.slice(best.length) } : undefined;
}

async function run(command: Command, rest: string[], io: CliIo): Promise<number> {
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

export async function dispatch(
  argv: string[],
  io: CliIo,
  commands: CommandEntry[] = COMMANDS,
): Promise<number> {
  if (argv.length === 0 || argv[0] === "help" || argv[0] === "--help" || argv[0] === "-h") {
    io.stdout(help(commands));
    return 0;
  }
  const found = findCommand(argv, commands);
  if (!found) {
    io.stderr(`shoal: unknown command "${argv.join(" ")}"\n\n${help(commands)}`);
    return 2;
  }
  return run(await found.command.load(), found.rest, io);
}
