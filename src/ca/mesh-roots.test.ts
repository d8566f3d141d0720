// The persisted rotation state: after every phase a reload (a daemon restart) signs and trusts what the
// phase says, and a restart in the middle of replacing the old root's files finishes the replacement.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fingerprintOf } from "./chain-root.js";
import { MeshRoots } from "./mesh-roots.js";
import { splitPemCertificates } from "./pem.js";

const T0 = new Date();

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "shoal-roots-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const view = (r: MeshRoots) => ({
  phase: r.phase,
  signing: r.signingRoot,
  bundle: splitPemCertificates(r.trustBundlePem).map(fingerprintOf).sort(),
});

test("each phase survives a restart: what signs and what is trusted", () =>
  withDir(async (dir) => {
    const roots = await MeshRoots.load(dir, { now: T0 });
    const old = roots.signingRoot;
    assert.deepEqual(view(roots), { phase: "none", signing: old, bundle: [old] });
    assert.deepEqual(view(await MeshRoots.load(dir, { now: T0 })), view(roots), "same root after a restart");

    await roots.advance(T0);
    const next = roots.roots().find((r) => !r.signing)!.fingerprint;
    assert.match(roots.roots().find((r) => !r.signing)!.subject, /CN=Shoal mesh root \d{4}-/);
    const both = [old, next].sort();
    assert.deepEqual(view(roots), { phase: "trust", signing: old, bundle: both });
    assert.deepEqual(view(await MeshRoots.load(dir, { now: T0 })), view(roots));

    await roots.advance(T0);
    assert.deepEqual(view(roots), { phase: "reissue", signing: next, bundle: both });
    const restarted = await MeshRoots.load(dir, { now: T0 });
    assert.deepEqual(view(restarted), view(roots));
    assert.equal(restarted.startedAt, roots.startedAt);

    await roots.advance(T0);
    assert.deepEqual(view(roots), { phase: "none", signing: next, bundle: [next] });
    assert.deepEqual(view(await MeshRoots.load(dir, { now: T0 })), view(roots));
    for (const f of ["rotation.json", "next-root-cert.pem", "next-root-key.pem"])
      assert.equal(existsSync(join(dir, "ca", f)), false, `${f} removed`);
  }));

test("a restart while the new root's files replaced the old root's finishes the replacement", () =>
  withDir(async (dir) => {
    const roots = await MeshRoots.load(dir, { now: T0 });
    await roots.advance(T0);
    await roots.advance(T0);
    const next = roots.signingRoot;
    const ca = join(dir, "ca");
    // Stopped after the record said "drop" and the new key was written, before the new certificate.
    await writeFile(
      join(ca, "rotation.json"),
      JSON.stringify({ phase: "drop", startedAt: T0.toISOString() }),
    );
    await copyFile(join(ca, "next-root-key.pem"), join(ca, "root-key.pem"));
    const after = await MeshRoots.load(dir, { now: T0 });
    assert.deepEqual(view(after), { phase: "none", signing: next, bundle: [next] });
    assert.equal(fingerprintOf(await readFile(join(ca, "root-cert.pem"), "utf8")), next);
    assert.equal(existsSync(join(ca, "rotation.json")), false);
  }));

test("a rotation record that cannot be read stops the start with an error naming the file", () =>
  withDir(async (dir) => {
    await MeshRoots.load(dir, { now: T0 });
    await writeFile(join(dir, "ca", "rotation.json"), "{ half");
    await assert.rejects(MeshRoots.load(dir, { now: T0 }), /rotation\.json: not JSON/);
  }));
