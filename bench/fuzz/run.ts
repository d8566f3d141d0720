// The fuzz run: three targets, each for a bounded time, from one printed seed (so a finding reproduces):
// the YAML loader and validation, the proxy's HTTP/1 and HTTP/2 parsing through a live proxy on
// loopback, and ProxyConfig messages pushed to a proxy over its config stream. Not part of the tests.
// Run: npm run fuzz [-- SECONDS_PER_TARGET] [--seed N] [--target yaml|http|config]
// Exit code 1 when anything was found; each finding's input is written under the printed directory.
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { fuzzConfig } from "./config-target.js";
import { fuzzHttp } from "./http-target.js";
import type { TargetResult } from "./report.js";
import { fuzzYaml } from "./yaml-target.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { seed: { type: "string" }, target: { type: "string", multiple: true } },
});
const seconds = Number(positionals[0] ?? 60);
const seed = Number(values.seed ?? Math.floor(Math.random() * 2 ** 31));
const targets = values.target ?? ["yaml", "http", "config"];
const root = fileURLToPath(new URL("../../..", import.meta.url));
const outDir = join(tmpdir(), `shoal-fuzz-${seed}`);

console.log(
  `fuzz: seed ${seed}, ${seconds} s per target (${targets.join(", ")}); reproduce with --seed ${seed}`,
);
const results: TargetResult[] = [];
for (const target of targets) {
  const t0 = performance.now();
  const r =
    target === "yaml"
      ? await fuzzYaml(root, seed, seconds)
      : target === "http"
        ? await fuzzHttp(seed, seconds)
        : target === "config"
          ? await fuzzConfig(seed, seconds)
          : undefined;
  if (!r) throw new Error(`unknown target ${target} (yaml, http, config)`);
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(
    `${r.target}: ${r.inputs} inputs in ${s} s, ${r.findings.length} findings; ${r.notes.join("; ")}`,
  );
  for (const [i, f] of r.findings.entries()) {
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, `${r.target}-${i}-${f.kind}-${f.index}.txt`);
    writeFileSync(file, f.input ?? "");
    console.log(
      `  ${f.kind} at input ${f.index} (${file}): ${f.message.split("\n").slice(0, 6).join("\n    ")}`,
    );
  }
  results.push(r);
}
const total = results.reduce((n, r) => n + r.findings.length, 0);
const by = (k: string) => results.reduce((n, r) => n + r.findings.filter((f) => f.kind === k).length, 0);
console.log(
  `fuzz: ${results.map((r) => `${r.target} ${r.inputs}`).join(", ")} inputs; ` +
    `${total} findings (${by("crash")} crashes, ${by("hang")} hangs); seed ${seed}`,
);
process.exit(total > 0 ? 1 : 0);
