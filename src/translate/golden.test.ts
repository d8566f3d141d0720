// Golden configs: each test/golden/translate/<scenario>/input.yaml is built into one ProxyConfig per
// sidecar, compared with `<pod>.<namespace>.json` beside it. UPDATE_GOLDEN=1 rewrites the expected files.
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { parseProxyConfig } from "../proxy/proxy-config.js";
import { sidecarProxies } from "./affected.js";
import { build, parseProxyRef } from "./build.js";
import { snapshotFromYaml } from "./test-support.js";

const ROOT = join(process.cwd(), "test/golden/translate");
const UPDATE = process.env["UPDATE_GOLDEN"] === "1";

for (const scenario of readdirSync(ROOT).sort()) {
  test(`golden translate/${scenario}`, () => {
    const dir = join(ROOT, scenario);
    const snapshot = snapshotFromYaml(readFileSync(join(dir, "input.yaml"), "utf8"));
    const proxies = sidecarProxies(snapshot);
    assert.ok(proxies.length > 0, "the scenario has no sidecars");
    const expectedFiles = new Set<string>();
    for (const id of proxies) {
      const ref = parseProxyRef(id)!;
      const file = `${ref.podName}.${ref.namespace}.json`;
      expectedFiles.add(file);
      const { config, diagnostics } = build(snapshot, id);
      assert.deepEqual(diagnostics, [], `${file}: unexpected diagnostics`);
      const parsed = parseProxyConfig(JSON.parse(JSON.stringify(config)));
      assert.ok(parsed.ok, `${file}: ${parsed.ok ? "" : parsed.errors.join("\n")}`);
      const text = `${JSON.stringify(config, null, 2)}\n`;
      const path = join(dir, file);
      if (UPDATE) writeFileSync(path, text);
      assert.ok(existsSync(path), `${path} is missing (run with UPDATE_GOLDEN=1)`);
      assert.equal(text, readFileSync(path, "utf8"), `${file} differs from the golden file`);
    }
    for (const f of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
      if (expectedFiles.has(f)) continue;
      if (UPDATE) unlinkSync(join(dir, f));
      else assert.fail(`${f} has no proxy in the input (run with UPDATE_GOLDEN=1)`);
    }
  });
}
