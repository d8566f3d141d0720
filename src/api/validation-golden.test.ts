// Golden validation corpus: every file under test/golden/validation/invalid must be rejected with the
// messages its `# expect:` lines name; every file under valid/ must be accepted without errors.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { formatDiagnostic } from "./diagnostic.js";
import { parseManifests } from "./load.js";
import { validateDocument } from "./validate.js";

const ROOT = join(process.cwd(), "test/golden/validation");

function errorsOf(file: string): string[] {
  const loaded = parseManifests(readFileSync(file, "utf8"), file);
  const lines = loaded.errors.map(formatDiagnostic);
  for (const doc of loaded.documents) lines.push(...validateDocument(doc).errors.map(formatDiagnostic));
  return lines;
}

function casesIn(dir: string): string[] {
  return readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith(".yaml") || f.endsWith(".json"))
    .sort();
}

for (const name of casesIn("invalid")) {
  test(`rejects invalid/${name}`, () => {
    const file = join(ROOT, "invalid", name);
    const expects = [...readFileSync(file, "utf8").matchAll(/^# expect: (.+)$/gm)].map((m) => m[1]!.trim());
    assert.ok(expects.length > 0, `${name} has no "# expect:" line`);
    const errors = errorsOf(file);
    for (const want of expects) {
      assert.ok(
        errors.some((e) => e.includes(want)),
        `expected an error containing ${JSON.stringify(want)}, got:\n${errors.join("\n")}`,
      );
    }
  });
}

for (const name of casesIn("valid")) {
  test(`accepts valid/${name}`, () => {
    assert.deepEqual(errorsOf(join(ROOT, "valid", name)), []);
  });
}

test("the corpus has at least 60 invalid and 20 valid cases", () => {
  assert.ok(casesIn("invalid").length >= 60, `only ${casesIn("invalid").length} invalid cases`);
  assert.ok(casesIn("valid").length >= 20, `only ${casesIn("valid").length} valid cases`);
});
