// Where the authority comes from: the mesh root kept in the state directory (created on first start),
// or an organisation's CA given as PEM files, like Istio's `cacerts` secret.
import { mkdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { ShoalError } from "../common/errors.js";
import { writeFileAtomic } from "./atomic-file.js";
import { authorityFromPem, createMeshRoot } from "./authority.js";
import type { CertificateAuthority } from "./authority.js";

export const ROOT_CERT_FILE = "root-cert.pem";
export const ROOT_KEY_FILE = "root-key.pem";

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

async function checkKeyMode(path: string): Promise<void> {
  const mode = (await stat(path)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new ShoalError(
      "CA_KEY_PERMISSIONS",
      `${path}: mode ${mode.toString(8).padStart(4, "0")} lets others read the root key; expected 0600`,
    );
  }
}

/**
 * Loads the mesh root from `stateDir`, or creates one (ECDSA P-256) on first start. The key is written
 * before the certificate, each atomically with mode 0600, so a certificate on disk always has its key.
 */
export async function loadOrCreateMeshRoot(
  stateDir: string,
  o: { trustDomain?: string; now: Date; rootLifetimeMs?: number },
): Promise<{ authority: CertificateAuthority; created: boolean }> {
  const dir = join(stateDir, "ca");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const certPath = join(dir, ROOT_CERT_FILE);
  const keyPath = join(dir, ROOT_KEY_FILE);
  const [certPem, keyPem] = await Promise.all([readIfExists(certPath), readIfExists(keyPath)]);
  if (certPem !== undefined && keyPem !== undefined) {
    await checkKeyMode(keyPath);
    const authority = await authorityFromPem({ certPem, keyPem, trustDomain: o.trustDomain, now: o.now });
    return { authority, created: false };
  }
  if (certPem !== undefined) {
    throw new ShoalError(
      "CA_STATE",
      `${certPath} exists but its key ${keyPath} is missing; refusing to replace the root`,
    );
  }
  // No certificate: nothing was ever issued from a key alone, so a stray key is replaced.
  const made = await createMeshRoot({ trustDomain: o.trustDomain, now: o.now, lifetimeMs: o.rootLifetimeMs });
  await writeFileAtomic(keyPath, made.keyPem, 0o600);
  await writeFileAtomic(certPath, made.certPem, 0o644);
  return { authority: made.authority, created: true };
}

export interface ProvidedCaFiles {
  certFile: string;
  keyFile: string;
  certChainFile?: string;
  rootCertFile?: string;
}

/** Istio's `cacerts` layout: ca-cert.pem, ca-key.pem, cert-chain.pem, root-cert.pem in one directory. */
export function cacertsFiles(dir: string): ProvidedCaFiles {
  return {
    certFile: join(dir, "ca-cert.pem"),
    keyFile: join(dir, "ca-key.pem"),
    certChainFile: join(dir, "cert-chain.pem"),
    rootCertFile: join(dir, "root-cert.pem"),
  };
}

async function readNamed(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new ShoalError("CA_CONFIG", `${what} ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Loads a user-provided root or intermediate CA (cert + key, optional chain and root). */
export async function loadProvidedCa(
  files: ProvidedCaFiles,
  o: { trustDomain?: string; now: Date },
): Promise<CertificateAuthority> {
  const certPem = await readNamed(files.certFile, "CA certificate");
  const keyPem = await readNamed(files.keyFile, "CA key");
  const certChainPem = files.certChainFile ? await readIfExists(files.certChainFile) : undefined;
  const rootCertPem = files.rootCertFile ? await readIfExists(files.rootCertFile) : undefined;
  return authorityFromPem({
    certPem,
    keyPem,
    certChainPem,
    rootCertPem,
    trustDomain: o.trustDomain,
    now: o.now,
  });
}
