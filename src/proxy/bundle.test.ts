// The bundled proxy (scripts/build-proxy.mjs) is what the cluster runs: it must behave as its entry module
// and be the one sidecars are launched with once the build has made it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { defaultProxyPaths } from "../inject/proxy-argv.js";

const MAIN = fileURLToPath(new URL("./main.js", import.meta.url));
const BUNDLE = fileURLToPath(new URL("./main.bundle.mjs", import.meta.url));
const built = existsSync(BUNDLE);

test(
  "the bundled proxy answers bad options exactly as main.js does",
  { skip: !built && "no bundle: run `npm run build`" },
  () => {
    const run = (file: string) =>
      spawnSync(process.execPath, [file, "--no-such-option"], { encoding: "utf8" });
    const [main, bundle] = [run(MAIN), run(BUNDLE)];
    assert.notEqual(main.status, 0);
    assert.equal(bundle.status, main.status);
    assert.equal(bundle.stderr, main.stderr);
  },
);

test(
  "sidecars are launched with the bundle once it is built",
  { skip: !built && "no bundle: run `npm run build`" },
  () => {
    assert.equal(defaultProxyPaths().proxyMain, BUNDLE);
    // Like main.js's import graph (imports.test.ts): no validation schemas, no gRPC library inside.
    const text = readFileSync(BUNDLE, "utf8");
    assert.doesNotMatch(text, /node_modules\/zod|@grpc\/grpc-js/);
  },
);
