// The control plane's bootstrap-token signing key, kept in the state directory beside the mesh root
// (created on first start, mode 0600) so tokens minted before a daemon restart still verify after it.
import { createPrivateKey, createPublicKey } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { mkdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { ShoalError } from "../../api/errors.js";
import { writeFileAtomic } from "../../ca/atomic-file.js";
import { generateTokenSigningKey } from "../../ca/bootstrap-token.js";

export const TOKEN_KEY_FILE = "token-signing-key.pem";

export interface TokenKeys {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export async function loadOrCreateTokenKey(stateDir: string): Promise<TokenKeys & { created: boolean }> {
  const dir = join(stateDir, "ca");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, TOKEN_KEY_FILE);
  let pem: string | undefined;
  try {
    pem = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  if (pem !== undefined) {
    const mode = (await stat(path)).mode & 0o777;
    if ((mode & 0o077) !== 0)
      throw new ShoalError(
        "CA_KEY_PERMISSIONS",
        `${path}: mode ${mode.toString(8).padStart(4, "0")} lets others read the token signing key; expected 0600`,
      );
    const privateKey = createPrivateKey(pem);
    return { privateKey, publicKey: createPublicKey(privateKey), created: false };
  }
  const made = generateTokenSigningKey();
  await writeFileAtomic(path, made.privateKey.export({ type: "pkcs8", format: "pem" }) as string, 0o600);
  return { ...made, created: true };
}
