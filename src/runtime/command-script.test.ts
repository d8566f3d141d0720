// runSteps: several commands in one shell, each with its own argv and stdin; a failure names its step.
import assert from "node:assert/strict";
import { test } from "node:test";
import { isShoalError } from "../api/errors.js";
import { renderScript, runSteps } from "./command-script.js";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

test("each step gets its own arguments (quotes and all) and its own stdin, in order", async () => {
  const dir = await mkdtemp(join(tmpdir(), "shoal-steps-"));
  try {
    const out = join(dir, "out");
    // A line equal to the first here-document delimiter must not end the input early.
    const input = "line one\nSHOAL_EOF_0\nit's $HOME `x`\n";
    await runSteps([
      { file: "sh", args: ["-c", `printf '%s|' "$@" >> ${out}`, "sh", "a b", "it's", "$x"] },
      { file: "sh", args: ["-c", `cat >> ${out}`], input },
      { file: "sh", args: ["-c", `wc -c < /dev/stdin >> ${out}`] },
    ]);
    assert.equal(await readFile(out, "utf8"), `a b|it's|$x|${input}0\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("the first failing step stops the script; the error names it and quotes its stderr", async () => {
  const dir = await mkdtemp(join(tmpdir(), "shoal-steps-"));
  try {
    const after = join(dir, "after");
    const err = await runSteps([
      { file: "true", args: [] },
      { file: "sh", args: ["-c", "echo 'no such device' >&2; exit 3", "ip-like"] },
      { file: "touch", args: [after] },
    ]).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isShoalError(err, "RUNTIME_COMMAND_FAILED"), String(err));
    assert.match(err.message, /^sh -c .*ip-like: no such device$/);
    await assert.rejects(readFile(after, "utf8"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a step without input reads /dev/null, never the script itself", () => {
  const script = renderScript([{ file: "cat", args: [] }]);
  assert.equal(script, `'cat' </dev/null || { echo 'shoal-step 0 failed' >&2; exit 1; }\n`);
});
