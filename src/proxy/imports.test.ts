// The proxy imports only the contract and its own code: walking the static import graph of the built
// executable finds no module of the API layer, translate, the control plane or the runtime, and no
// package besides Node's own (a sidecar loads no schema library, gRPC library or X.509 library).
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url)); // dist/src/proxy
const distSrc = resolve(here, "..");

const STATIC = /^\s*(?:import|export)\s+(?:[^'";]*?\s+from\s+)?["']([^"']+)["']/gm;
const DYNAMIC = /\bimport\(\s*["']([^"']+)["']\s*\)/g;

interface Graph {
  modules: Set<string>;
  packages: Set<string>;
  /** `importer → specifier` of every dynamic import met (loaded on demand, not at start). */
  dynamic: string[];
}

function walk(entry: string): Graph {
  const g: Graph = { modules: new Set(), packages: new Set(), dynamic: [] };
  const visit = (file: string) => {
    if (g.modules.has(file)) return;
    g.modules.add(file);
    const src = readFileSync(file, "utf8");
    for (const m of src.matchAll(STATIC)) {
      const spec = m[1]!;
      if (spec.startsWith(".")) visit(resolve(dirname(file), spec));
      else g.packages.add(spec);
    }
    for (const m of src.matchAll(DYNAMIC)) g.dynamic.push(`${relative(distSrc, file)} → ${m[1]}`);
  };
  visit(entry);
  return g;
}

const main = resolve(here, "main.js");

test("the proxy executable's import graph holds only the proxy, the contract and pure helpers", () => {
  assert.ok(existsSync(main), `${main} is built`);
  const g = walk(main);
  const layers = [...g.modules].map((f) => relative(distSrc, f).split("/")[0]!);
  const forbidden = ["api", "translate", "controlplane", "runtime", "cli", "analyze", "xds-protocol"];
  const found = [...g.modules]
    .map((f) => relative(distSrc, f))
    .filter((f) => forbidden.includes(f.split("/")[0]!));
  assert.deepEqual(found, [], "modules the proxy must not load");
  assert.ok(layers.includes("proxy") && g.modules.size > 20, "the walk followed the proxy's imports");
  const packages = [...g.packages].filter((p) => !p.startsWith("node:"));
  assert.deepEqual(packages, [], "packages besides Node's own");
  // A gateway loads its own code on demand: the same rules hold for it.
  const gw = walk(resolve(here, "gateway.js"));
  const gwFound = [...gw.modules]
    .map((f) => relative(distSrc, f))
    .filter((f) => forbidden.includes(f.split("/")[0]!));
  assert.deepEqual(gwFound, [], "modules the gateway must not load");
  assert.deepEqual(
    [...gw.packages].filter((p) => !p.startsWith("node:")),
    [],
    "gateway packages",
  );
});

test("the walk sees through re-exports and multi-line imports (a fixture with a forbidden module)", () => {
  // The proxy's authz modules reach src/policy through specific files; the policy index re-exports the
  // compiler, which loads the API layer: walking it must find that.
  const g = walk(resolve(distSrc, "policy/index.js"));
  const rel = [...g.modules].map((f) => relative(distSrc, f));
  assert.ok(
    rel.some((f) => f.startsWith("api/")),
    "policy/index.js reaches the API layer",
  );
  assert.ok(g.packages.has("zod"));
});

test("what the proxy loads on demand: gateway code (gateways only), the gRPC library (callers handing in its credentials)", () => {
  const g = walk(main);
  assert.deepEqual(g.dynamic.sort(), [
    "proxy/main.js → ./workers/worker.js",
    "proxy/proxy.js → ./gateway.js",
    "proxy/xds-client.js → ../xds-protocol/service.js",
    "proxy/xds-mode.js → ./workers/xds-primary.js",
  ]);
});
