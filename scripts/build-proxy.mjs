// Bundles the built proxy (dist/src/proxy/main.js and everything it imports) into one ES module beside it,
// dist/src/proxy/main.bundle.mjs, which sidecars and gateways run: a proxy starts with one file to read
// instead of about a hundred modules to resolve and load (measured: 0.19 s of CPU at start instead of
// 0.28 s, which adds up when 50 sidecars start at once on two cores). The bundle sits in the same
// directory as main.js, so paths it resolves from its own URL (the SO_ORIGINAL_DST addon) stay the same.
// The gRPC client of the file-mode control-plane stream stays outside: it is loaded only when used.
import { build } from "esbuild";

const outfile = "dist/src/proxy/main.bundle.mjs";
await build({
  entryPoints: ["dist/src/proxy/main.js"],
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  outfile,
  external: ["../xds-protocol/service.js"],
  logLevel: "warning",
});
console.log(`proxy bundled into ${outfile}`);
