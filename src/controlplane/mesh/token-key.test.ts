// The token-signing key: created once with mode 0600, the same key after a restart, refused when others
// can read it.
import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { isShoalError } from "../../api/errors.js";
import { TOKEN_KEY_FILE, loadOrCreateTokenKey } from "./token-key.js";

test("created on first start (0600), loaded after; a readable key is refused", async () => {
  const dir = await mkdtemp(join(tmpdir(), "shoal-tokenkey-"));
  try {
    const first = await loadOrCreateTokenKey(dir);
    assert.equal(first.created, true);
    const path = join(dir, "ca", TOKEN_KEY_FILE);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    const again = await loadOrCreateTokenKey(dir);
    assert.equal(again.created, false);
    const der = (k: typeof first.publicKey) => k.export({ type: "spki", format: "der" }).toString("hex");
    assert.equal(der(again.publicKey), der(first.publicKey));
    await chmod(path, 0o644);
    await assert.rejects(loadOrCreateTokenKey(dir), (err) => isShoalError(err, "CA_KEY_PERMISSIONS"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
