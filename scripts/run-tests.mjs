// Runs the built test files: unit tests (beside the code, in parallel) and e2e tests (serially, they own
// network namespaces). Prints one combined "N passed, N failed, N skipped" line at the end.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const which = process.argv[2] ?? "all";

function findTests(dir) {
  let out = [];
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(findTests(path));
    else if (name.endsWith(".test.js")) out.push(path);
  }
  return out.sort();
}

function run(label, files, concurrency) {
  if (files.length === 0) return { pass: 0, fail: 0, skipped: 0, ok: true };
  const dir = mkdtempSync(join(tmpdir(), "shoal-tests-"));
  const tap = join(dir, "report.tap");
  console.log(`\n=== ${label}: ${files.length} files ===`);
  const result = spawnSync(
    process.execPath,
    [
      "--test",
      `--test-concurrency=${concurrency}`,
      "--test-reporter=spec",
      "--test-reporter-destination=stdout",
      "--test-reporter=tap",
      `--test-reporter-destination=${tap}`,
      ...files,
    ],
    { stdio: "inherit" },
  );
  const text = readFileSync(tap, "utf8");
  rmSync(dir, { recursive: true, force: true });
  const count = (key) => sumLast(text, key);
  return { pass: count("pass"), fail: count("fail"), skipped: count("skipped"), ok: result.status === 0 };
}

function sumLast(text, key) {
  const matches = [...text.matchAll(new RegExp(`^# ${key} (\\d+)$`, "gm"))];
  const last = matches.at(-1);
  return last ? Number(last[1]) : 0;
}

const results = [];
if (which === "unit" || which === "all") results.push(run("unit", findTests("dist/src"), 2));
if (which === "e2e" || which === "all") {
  if (process.getuid?.() !== 0) {
    console.log(
      "\n!!! e2e tests need root (network namespaces, iptables): each e2e test reports SKIPPED !!!",
    );
  }
  results.push(run("e2e", findTests("dist/test/e2e"), Number(process.env.E2E_CONCURRENCY ?? 1)));
}
const total = results.reduce(
  (a, r) => ({
    pass: a.pass + r.pass,
    fail: a.fail + r.fail,
    skipped: a.skipped + r.skipped,
    ok: a.ok && r.ok,
  }),
  { pass: 0, fail: 0, skipped: 0, ok: true },
);
console.log(`\ntests: ${total.pass} passed, ${total.fail} failed, ${total.skipped} skipped`);
process.exit(total.ok && total.fail === 0 ? 0 : 1);
