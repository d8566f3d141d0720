// Bundles the built proxy (dist/src/proxy/main.js and everything it imports) into one ES module beside it,
// dist/src/proxy/main.bundle.mjs, which sidecars and gateways run: a proxy starts with one file to read
// instead of about a hundred modules to resolve and load (measured: 0.19 s of CPU at start instead of
// 0.28 s, which adds up when 50 sidecars start at once on two cores). The bundle sits in the same
// directory as main.js, so paths it resolves from its own URL (the SO_ORIGINAL_DST addon) stay the same.
// The gRPC client of the file-mode control-plane stream stays outside: it is loaded only when used.
// The memory benchmark's sidecar (dist/bench/sidecar-child.js, the same xDS-mode proxy with its own ports)
// is bundled the same way, so the benchmark measures what pods run.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { build } from "esbuild";

const GRPC_SERVICE = resolve("dist/src/xds-protocol/service.js");
/** The gRPC service module stays a file of its own, imported by its path relative to each bundle. */
const grpcOutside = (outfile) => ({
  name: "grpc-outside",
  setup(b) {
    b.onResolve({ filter: /xds-protocol\/service\.js$/ }, () => {
      const path = relative(dirname(resolve(outfile)), GRPC_SERVICE);
      return { path: path.startsWith(".") ? path : `./${path}`, external: true };
    });
  },
});

/**
 * Node's built-ins are loaded with `require`, not `import`: the ES module face Node builds for a built-in
 * reads every export, getters included (node:tls's `rootCertificates` turns the ~140 public roots into
 * strings the proxy never reads: 220 KB of heap), and keeps a module record per built-in.
 * Each `node:x` import becomes a CommonJS module `module.exports = require("node:x")`, whose exports
 * the importing code reads as properties when it uses them.
 */
const builtinsByRequire = {
  name: "builtins-by-require",
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) =>
      args.namespace === "builtin"
        ? { path: args.path, external: true }
        : { path: args.path, namespace: "builtin" },
    );
    b.onLoad({ filter: /.*/, namespace: "builtin" }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: "js",
    }));
  },
};

const options = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  logLevel: "warning",
  // ASCII only: V8 keeps a module's source for as long as it runs (lazy compilation), one byte a character
  // when every character is Latin-1 and two otherwise; one "→" in a comment doubled it (260 KiB a proxy).
  charset: "ascii",
  // The `require` the built-ins are loaded with (builtinsByRequire).
  banner: {
    js: 'import { createRequire as __shoalRequire } from "node:module";\nconst require = __shoalRequire(import.meta.url);',
  },
};

/** esbuild escapes non-ASCII in strings and regexps; what is left is in comments, where it can go. */
function asciiOnly(file) {
  const text = readFileSync(file, "utf8");
  const ascii = text.replace(/[^\p{ASCII}]/gu, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);
  if (ascii !== text) writeFileSync(file, ascii);
}
const bundles = [
  ["dist/src/proxy/main.js", "dist/src/proxy/main.bundle.mjs"],
  ["dist/bench/sidecar-child.js", "dist/bench/sidecar-child.bundle.mjs"],
];
for (const [entry, outfile] of bundles) {
  if (!existsSync(entry)) continue;
  await build({
    ...options,
    entryPoints: [entry],
    outfile,
    plugins: [grpcOutside(outfile), builtinsByRequire],
  });
  asciiOnly(outfile);
  console.log(`proxy bundled into ${outfile}`);
}
