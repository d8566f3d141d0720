// Every manifest under samples/ is what a new user applies first: each must load and validate with no
// errors, and the files the scenarios name must exist.
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import { formatDiagnostic } from "./diagnostic.js";
import { parseManifests } from "./load.js";
import { validateDocument } from "./validate.js";

const ROOT = join(process.cwd(), "samples");

function manifests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...manifests(path));
    // A cluster config (`shoal up --config`) is not a manifest.
    else if (/\.(ya?ml|json)$/.test(name) && name !== "cluster.yaml") out.push(path);
  }
  return out;
}

test("every sample validates without errors", () => {
  const files = manifests(ROOT);
  assert.ok(files.length > 0, "no samples found");
  for (const file of files) {
    const name = relative(process.cwd(), file);
    const loaded = parseManifests(readFileSync(file, "utf8"), name);
    const errors = loaded.errors.map(formatDiagnostic);
    for (const doc of loaded.documents) errors.push(...validateDocument(doc).errors.map(formatDiagnostic));
    assert.deepEqual(errors, [], `${name} has errors`);
    assert.ok(loaded.documents.length > 0, `${name} holds no resource`);
  }
});

test("the files the scenarios apply are present", () => {
  const wanted = [
    "tcp-echo/tcp-echo.yaml",
    "curl/curl.yaml",
    "httpbin/httpbin.yaml",
    "bookinfo/details.yaml",
    "bookinfo/productpage.yaml",
    "policies/s1-step1-allow-ports.yaml",
    "policies/s1-step2-allow-get-9000.yaml",
    "policies/s1-step3-deny-get.yaml",
    "policies/s1-step4-deny-get-9000.yaml",
    "policies/s2-step1-foo-strict.yaml",
    "policies/s2-step2-mesh-strict.yaml",
    "policies/s3-step1-deny-all.yaml",
    "policies/s3-step2-details-viewer.yaml",
  ];
  for (const f of wanted) assert.ok(existsSync(join(ROOT, f)), `samples/${f} is missing`);
});

test("workload samples name no namespace, so `-n` decides where they go", () => {
  for (const file of manifests(ROOT).filter((f) => !f.includes(`${join(ROOT, "policies")}`))) {
    for (const doc of parseManifests(readFileSync(file, "utf8"), file).documents) {
      const meta = (doc.object as { metadata?: { namespace?: unknown } }).metadata;
      assert.equal(meta?.namespace, undefined, `${relative(ROOT, file)} sets a namespace`);
    }
  }
});
