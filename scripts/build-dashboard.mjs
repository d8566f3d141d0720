// Bundles the dashboard's UI (src/dashboard/ui, preact + cytoscape) into dist/dashboard with esbuild, next
// to its index.html and stylesheet, so the package ships it and nothing is fetched at run time.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const src = "src/dashboard/ui";
// esbuild only strips types: check the UI's first (DOM types, preact JSX) so a type error fails the build.
const check = spawnSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", `${src}/tsconfig.json`], {
  stdio: "inherit",
});
if (check.status !== 0) process.exit(check.status ?? 1);
const out = "dist/dashboard";
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(src, "main.tsx")],
  bundle: true,
  outfile: join(out, "app.js"),
  format: "iife",
  target: "es2020",
  jsx: "automatic",
  jsxImportSource: "preact",
  minify: true,
  sourcemap: true,
  legalComments: "linked",
  logLevel: "warning",
});
for (const f of ["index.html", "app.css"]) copyFileSync(join(src, f), join(out, f));
console.log(`dashboard UI built into ${out}`);
