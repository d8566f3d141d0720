import assert from "node:assert/strict";
import { test } from "node:test";
import { dispatch, findCommand } from "../dispatch.js";
import type { CliIo, Command, CommandEntry } from "../io.js";
import { takeUseKube } from "./analyze.js";
import { COMMANDS } from "./index.js";

function capture(): CliIo & { out: string; err: string } {
  const io = {
    out: "",
    err: "",
    stdout: (t: string) => void (io.out += t),
    stderr: (t: string) => void (io.err += t),
    readStdin: async () => "",
  };
  return io;
}

test("every entry of the command table loads the command it names, with the same words and summary", async () => {
  for (const entry of COMMANDS) {
    const command = await entry.load();
    assert.deepEqual(command.path, entry.path);
    assert.equal(command.summary, entry.summary, entry.path.join(" "));
  }
});

test("help lists every command without loading any; only the command run is loaded", async () => {
  const loaded: string[] = [];
  const fake = (path: string[], aliases?: string[][]): CommandEntry => ({
    path,
    ...(aliases ? { aliases } : {}),
    summary: `does ${path.join(" ")}`,
    load: async (): Promise<Command> => {
      loaded.push(path.join(" "));
      return {
        path,
        summary: `does ${path.join(" ")}`,
        usage: `Usage: ${path.join(" ")}`,
        run: async (args, io) => (io.stdout(`${path.join(" ")} ${args.join(" ")}\n`), 0),
      };
    },
  });
  const table = [fake(["x", "authz", "check"]), fake(["proxy-config"], [["pc"]]), fake(["get"])];
  const help = capture();
  assert.equal(await dispatch(["--help"], help, table), 0);
  assert.match(help.out, /proxy-config, pc\s+does proxy-config/);
  assert.deepEqual(loaded, []);
  const io = capture();
  assert.equal(await dispatch(["pc", "cluster", "a.b"], io, table), 0);
  assert.equal(io.out, "proxy-config cluster a.b\n");
  assert.deepEqual(loaded, ["proxy-config"]);
  assert.equal(findCommand(["x", "authz", "check", "p"], table)?.rest.join(" "), "p");
  assert.equal(findCommand(["ps"], COMMANDS)?.command.path.join(" "), "proxy-status");
});

test("istioctl's --use-kube is read in any of its forms", () => {
  assert.deepEqual(takeUseKube(["-f", "x", "--use-kube=false"]), { rest: ["-f", "x"], useKube: false });
  assert.deepEqual(takeUseKube(["--use-kube"]), { rest: [], useKube: true });
  assert.deepEqual(takeUseKube(["-A"]), { rest: ["-A"], useKube: undefined });
});
