// Runs a list of host commands in one `sh` process instead of one process of ours each. Starting a
// process from the daemon copies the daemon's page tables (fork) on its main thread, which costs far
// more than the command itself once the daemon is large and the machine busy; a shell is small, so
// its forks are cheap. Each step keeps its own argv and stdin (a quoted here-document, or /dev/null);
// the first failing step stops the script, and the error names it and quotes its stderr.
import { ShoalError } from "../api/errors.js";
import { describeCommand, runCommand } from "./command.js";

export interface Step {
  file: string;
  args: readonly string[];
  /** Written to the step's stdin; /dev/null when absent. */
  input?: string | undefined;
}

const quote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;

/** A here-document delimiter that no line of `input` equals. */
function delimiter(input: string): string {
  const lines = new Set(input.split("\n"));
  let n = 0;
  while (lines.has(`SHOAL_EOF_${n}`)) n++;
  return `SHOAL_EOF_${n}`;
}

const FAILED = /^shoal-step (\d+) failed$/m;

/** The script that runs `steps` in order and stops at the first failure, saying which one. */
export function renderScript(steps: readonly Step[]): string {
  return steps
    .map((step, i) => {
      const line = [step.file, ...step.args].map(quote).join(" ");
      const onFail = `|| { echo 'shoal-step ${i} failed' >&2; exit 1; }`;
      if (step.input === undefined) return `${line} </dev/null ${onFail}\n`;
      const body = step.input.endsWith("\n") || step.input === "" ? step.input : `${step.input}\n`;
      const end = delimiter(body);
      return `${line} <<'${end}' ${onFail}\n${body}${end}\n`;
    })
    .join("");
}

/** Runs `steps` one after another in one `sh`; rejects with RUNTIME_COMMAND_FAILED naming the step that failed. */
export async function runSteps(steps: readonly Step[]): Promise<void> {
  if (steps.length === 0) return;
  try {
    await runCommand("sh", ["-s"], renderScript(steps));
  } catch (err) {
    // runCommand's message: "sh -s: exit N: <stderr>".
    const message = (err as Error).message;
    const match = FAILED.exec(message);
    const step = match ? steps[Number(match[1])] : undefined;
    if (step === undefined) throw err;
    const detail = message
      .replace(/^sh -s: [^:]*: /, "")
      .replace(FAILED, "")
      .trim();
    throw new ShoalError(
      "RUNTIME_COMMAND_FAILED",
      `${describeCommand(step.file, step.args)}: ${detail || "failed"}`,
      { cause: err },
    );
  }
}
