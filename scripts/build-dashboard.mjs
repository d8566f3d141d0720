// Bundles the dashboard's UI (src/dashboard/ui, preact + cytoscape) into dist/dashboard with esbuild, next
// to its index.html and stylesheet, so the package ships it and nothing is fetched at run time.
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const src = "src/dashboard/ui";
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
