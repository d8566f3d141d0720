// The mesh's roots over time: which root signs leaves, which roots peers trust, and how far a root
// rotation has come. Kept in the state directory beside the root itself, so a daemon restarted in the
// middle of a rotation signs and trusts exactly what it did before it stopped.
//
//   phase     signs with   trust bundle     files (state/ca)
//   none      root         root             root-*.pem
//   trust     root         root + next      root-*.pem, next-root-*.pem, rotation.json
//   reissue   next         next + root      same
//   (drop)    next         next             next-root-*.pem copied over root-*.pem, then the rest removed
import { X509Certificate } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { ShoalError } from "../common/errors.js";
import { writeFileAtomic } from "./atomic-file.js";
import { authorityFromPem, createMeshRoot } from "./authority.js";
import type { CertificateAuthority } from "./authority.js";
import { ROOT_CERT_FILE, ROOT_KEY_FILE, loadOrCreateMeshRoot } from "./ca-store.js";
import { fingerprintOf } from "./chain-root.js";
import { splitPemCertificates } from "./pem.js";

export const NEXT_ROOT_CERT_FILE = "next-root-cert.pem";
export const NEXT_ROOT_KEY_FILE = "next-root-key.pem";
export const ROTATION_FILE = "rotation.json";

export type RotationPhase = "none" | "trust" | "reissue";

export interface RootInfo {
  fingerprint: string;
  subject: string;
  notAfter: string;
  /** Signs leaves now. */
  signing: boolean;
}

interface RotationRecord {
  phase: "trust" | "reissue" | "drop";
  startedAt: string;
}

interface Pems {
  cert: string;
  key: string;
}

export class MeshRoots {
  #dir: string;
  #phase: RotationPhase;
  #root: Pems;
  #next: Pems | undefined;
  #startedAt: string | undefined;
  #authority: CertificateAuthority;
  #trustDomain: string | undefined;

  private constructor(
    dir: string,
    s: { phase: RotationPhase; root: Pems; next?: Pems; startedAt?: string },
    authority: CertificateAuthority,
    trustDomain: string | undefined,
  ) {
    this.#dir = dir;
    this.#phase = s.phase;
    this.#root = s.root;
    this.#next = s.next;
    this.#startedAt = s.startedAt;
    this.#authority = authority;
    this.#trustDomain = trustDomain;
  }

  /** Loads (or creates) the root and any rotation in progress; a rotation that was dropping is finished. */
  static async load(stateDir: string, o: { trustDomain?: string; now: Date }): Promise<MeshRoots> {
    const dir = join(stateDir, "ca");
    let record = await readRotation(join(dir, ROTATION_FILE));
    if (record?.phase === "drop") {
      // Stopped while the new root replaced the old: finish that first (root-*.pem may be half done).
      await finish(dir, await readNext(dir));
      record = undefined;
    }
    await loadOrCreateMeshRoot(stateDir, o); // creates the first root, checks the key's mode
    const root = { cert: await read(join(dir, ROOT_CERT_FILE)), key: await read(join(dir, ROOT_KEY_FILE)) };
    const state: { phase: RotationPhase; root: Pems; next?: Pems; startedAt?: string } = record
      ? { phase: record.phase as RotationPhase, root, next: await readNext(dir), startedAt: record.startedAt }
      : { phase: "none", root };
    const authority = await signingAuthority(state, o.trustDomain, o.now);
    return new MeshRoots(dir, state, authority, o.trustDomain);
  }

  get phase(): RotationPhase {
    return this.#phase;
  }

  /** When the rotation in progress started. */
  get startedAt(): string | undefined {
    return this.#startedAt;
  }

  /** The authority that signs now; its rootsPem is the trust bundle. */
  get authority(): CertificateAuthority {
    return this.#authority;
  }

  get trustBundlePem(): string {
    return this.#authority.rootsPem;
  }

  /** Fingerprint of the root new leaves chain to. */
  get signingRoot(): string {
    return fingerprintOf(this.#signingPems().cert);
  }

  /** Every root in the trust bundle. */
  roots(): RootInfo[] {
    const signing = this.signingRoot;
    return splitPemCertificates(this.trustBundlePem).map((pem) => {
      const fingerprint = fingerprintOf(pem);
      const cert = new X509Certificate(pem);
      return { fingerprint, subject: cert.subject, notAfter: cert.validTo, signing: fingerprint === signing };
    });
  }

  /**
   * Moves the rotation one phase on and persists it before it takes effect:
   * none → trust (a new root is made and trusted beside the old one), trust → reissue (the new root signs),
   * reissue → none (the old root leaves the bundle).
   */
  async advance(now: Date): Promise<RotationPhase> {
    const dir = this.#dir;
    if (this.#phase === "none") {
      const made = await createMeshRoot({
        trustDomain: this.#authority.trustDomain,
        now,
        commonName: `Shoal mesh root ${now.toISOString()}`,
      });
      // Key before certificate, both before the record that makes them count.
      await writeFileAtomic(join(dir, NEXT_ROOT_KEY_FILE), made.keyPem, 0o600);
      await writeFileAtomic(join(dir, NEXT_ROOT_CERT_FILE), made.certPem, 0o644);
      this.#next = { cert: made.certPem, key: made.keyPem };
      this.#startedAt = now.toISOString();
      await this.#enter("trust", now);
    } else if (this.#phase === "trust") {
      await this.#enter("reissue", now);
    } else {
      const next = this.#next as Pems;
      await writeRotation(join(dir, ROTATION_FILE), { phase: "drop", startedAt: this.#startedAt ?? "" });
      await finish(dir, next);
      this.#root = next;
      this.#next = undefined;
      this.#startedAt = undefined;
      this.#phase = "none";
      this.#authority = await signingAuthority({ phase: "none", root: next }, this.#trustDomain, now);
    }
    return this.#phase;
  }

  async #enter(phase: "trust" | "reissue", now: Date): Promise<void> {
    const state = { phase, root: this.#root, next: this.#next as Pems };
    const authority = await signingAuthority(state, this.#trustDomain, now); // checks before persisting
    await writeRotation(join(this.#dir, ROTATION_FILE), {
      phase,
      startedAt: this.#startedAt ?? now.toISOString(),
    });
    this.#phase = phase;
    this.#authority = authority;
  }

  #signingPems(): Pems {
    return this.#phase === "reissue" ? (this.#next as Pems) : this.#root;
  }
}

async function read(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new ShoalError(
      "CA_STATE",
      `${path}: ${(err as Error).message} (root rotation state is incomplete)`,
      {
        cause: err,
      },
    );
  }
}

async function readNext(dir: string): Promise<Pems> {
  return { cert: await read(join(dir, NEXT_ROOT_CERT_FILE)), key: await read(join(dir, NEXT_ROOT_KEY_FILE)) };
}

async function readRotation(path: string): Promise<RotationRecord | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch (err) {
    throw new ShoalError("CA_STATE", `${path}: not JSON (${(err as Error).message})`, { cause: err });
  }
  const r = record as Partial<RotationRecord>;
  if (r.phase !== "trust" && r.phase !== "reissue" && r.phase !== "drop") {
    throw new ShoalError("CA_STATE", `${path}: unknown rotation phase ${JSON.stringify(r.phase)}`);
  }
  return { phase: r.phase, startedAt: typeof r.startedAt === "string" ? r.startedAt : "" };
}

function writeRotation(path: string, r: RotationRecord): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(r) + "\n", 0o600);
}

/** The new root becomes the root; each step can be repeated, so a crash part-way is finished at load. */
async function finish(dir: string, next: Pems): Promise<void> {
  await writeFileAtomic(join(dir, ROOT_KEY_FILE), next.key, 0o600);
  await writeFileAtomic(join(dir, ROOT_CERT_FILE), next.cert, 0o644);
  await rm(join(dir, ROTATION_FILE), { force: true });
  await rm(join(dir, NEXT_ROOT_CERT_FILE), { force: true });
  await rm(join(dir, NEXT_ROOT_KEY_FILE), { force: true });
}

/** The signing authority of a phase, with the phase's trust bundle as its roots. */
function signingAuthority(
  s: { phase: RotationPhase; root: Pems; next?: Pems },
  trustDomain: string | undefined,
  now: Date,
): Promise<CertificateAuthority> {
  if (s.phase === "none" || !s.next)
    return authorityFromPem({ certPem: s.root.cert, keyPem: s.root.key, trustDomain, now });
  // During a rotation both roots are trusted: "trust" still signs with the old one, "reissue" with the new.
  const [signing, other] = s.phase === "trust" ? [s.root, s.next] : [s.next, s.root];
  return authorityFromPem({
    certPem: signing.cert,
    keyPem: signing.key,
    rootCertPem: other.cert,
    trustDomain,
    now,
  });
}
