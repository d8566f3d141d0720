// The proxy's side of identity: make a key + CSR, ask the CA (through an injected transport), keep the
// key and chain, renew at half the remaining lifetime, and publish one SecureContext per certificate.
import { X509Certificate, createPublicKey } from "node:crypto";
import { EventEmitter } from "node:events";
import { createSecureContext } from "node:tls";
import type { SecureContext } from "node:tls";
import { ShoalError } from "../common/errors.js";
import type { CertificateResponse } from "./ca-service.js";
import { issuingRoot } from "./chain-root.js";
import { generateCsr } from "./pkcs10.js";
import { spiffeIdOf } from "./peer-identity.js";
import { splitPemCertificates } from "./pem.js";

/** Transport to the CA (gRPC later; a direct call in tests). */
export type RequestCertificate = (csrPem: string, token: string) => Promise<CertificateResponse>;

export interface Scheduler {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Real timers, unref'd so a pending renewal never keeps the process alive. */
export const realScheduler: Scheduler = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, Math.min(ms, 2 ** 31 - 1));
    t.unref();
    return t;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

export interface IdentityClientOptions {
  requestCertificate: RequestCertificate;
  /** The bootstrap token, or a function returning a fresh one for each request. */
  token: string | (() => string | Promise<string>);
  /** When set, an issued certificate must carry exactly this SPIFFE id. */
  expectedSpiffeId?: string;
  clock?: () => Date;
  scheduler?: Scheduler;
  /** Renew after this fraction of the remaining lifetime (default 0.5). */
  renewFraction?: number;
  /** Never schedule a renewal sooner than this (default 1 s), so tiny lifetimes cannot spin. */
  minRenewDelayMs?: number;
  retryInitialMs?: number;
  retryMaxMs?: number;
}

export interface IdentityMaterial {
  keyPem: string;
  chainPem: string;
  trustBundlePem: string;
  spiffeId: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** Built once for this certificate; shared by every connection that uses it. */
  secureContext: SecureContext;
}

/** Checks a CA answer against the key we hold and builds the material (and its SecureContext). */
export function materialFromResponse(
  keyPem: string,
  res: CertificateResponse,
  expectedSpiffeId?: string,
): IdentityMaterial {
  const [leafPem] = splitPemCertificates(res.chainPem);
  if (!leafPem) throw new ShoalError("IDENTITY_BAD_RESPONSE", "CA answered without a certificate");
  const leaf = new X509Certificate(leafPem);
  const ours = createPublicKey(keyPem).export({ type: "spki", format: "der" });
  if (!leaf.publicKey.export({ type: "spki", format: "der" }).equals(ours)) {
    throw new ShoalError("IDENTITY_BAD_RESPONSE", "CA returned a certificate for a different key");
  }
  const spiffeId = spiffeIdOf(leaf);
  if (!spiffeId)
    throw new ShoalError("IDENTITY_BAD_RESPONSE", "CA returned a certificate without a SPIFFE id");
  if (expectedSpiffeId !== undefined && spiffeId !== expectedSpiffeId) {
    throw new ShoalError("IDENTITY_BAD_RESPONSE", `CA issued ${spiffeId}, expected ${expectedSpiffeId}`);
  }
  return {
    keyPem,
    chainPem: res.chainPem,
    trustBundlePem: res.trustBundlePem,
    spiffeId,
    serialNumber: leaf.serialNumber,
    notBefore: new Date(leaf.validFrom),
    notAfter: new Date(leaf.validTo),
    secureContext: createSecureContext({
      key: keyPem,
      cert: res.chainPem,
      ca: res.trustBundlePem,
      minVersion: "TLSv1.2",
    }),
  };
}

/** What the control plane says to trust (Istio's ROOTCA secret), and the root leaves are signed by now. */
export interface PushedTrust {
  rootsPem: string;
  /** SHA-256 fingerprint of the signing root: a leaf under another root is renewed at once. */
  signingRoot: string;
}

/** The same certificate and key with another trust bundle (a new SecureContext for new handshakes). */
function withBundle(m: IdentityMaterial, trustBundlePem: string): IdentityMaterial {
  return {
    ...m,
    trustBundlePem,
    secureContext: createSecureContext({
      key: m.keyPem,
      cert: m.chainPem,
      ca: trustBundlePem,
      minVersion: "TLSv1.2",
    }),
  };
}

export interface IdentityClientEvents {
  rotated: [material: IdentityMaterial];
  /** The trust bundle changed (same certificate). */
  trustUpdated: [material: IdentityMaterial];
  renewFailed: [error: unknown, retryInMs: number];
}

export class IdentityClient extends EventEmitter<IdentityClientEvents> {
  #o: IdentityClientOptions;
  #clock: () => Date;
  #scheduler: Scheduler;
  #current: IdentityMaterial | undefined;
  #inflight: Promise<IdentityMaterial> | undefined;
  #timer: unknown;
  #stopped = false;
  #failures = 0;
  #trust: PushedTrust | undefined;

  constructor(options: IdentityClientOptions) {
    super();
    this.#o = options;
    this.#clock = options.clock ?? (() => new Date());
    this.#scheduler = options.scheduler ?? realScheduler;
  }

  /** The current certificate material, if any. */
  get current(): IdentityMaterial | undefined {
    return this.#current;
  }

  /** The SecureContext of the current certificate: new handshakes use it; open connections keep theirs. */
  get secureContext(): SecureContext {
    if (!this.#current) throw new ShoalError("IDENTITY_NOT_READY", "no workload certificate yet");
    return this.#current.secureContext;
  }

  /** Gets the first certificate and schedules renewals. */
  async start(): Promise<IdentityMaterial> {
    this.#stopped = false;
    return this.renew();
  }

  /** Renews now (concurrent callers share one request) and reschedules the next renewal. */
  renew(): Promise<IdentityMaterial> {
    if (!this.#inflight) {
      this.#inflight = this.#fetch().finally(() => {
        this.#inflight = undefined;
      });
    }
    return this.#inflight;
  }

  /**
   * Takes the trust the control plane pushed: new handshakes validate peers against `rootsPem` (open
   * connections keep going), later certificates keep it, and a leaf that is not under `signingRoot` is
   * renewed now. Returns true when a renewal was started.
   */
  applyTrust(trust: PushedTrust): boolean {
    this.#trust = trust;
    const m = this.#current;
    if (!m) return false; // the first certificate will carry it
    if (m.trustBundlePem !== trust.rootsPem) {
      this.#current = withBundle(m, trust.rootsPem);
      this.emit("trustUpdated", this.#current);
    }
    const underSigningRoot = (x: IdentityMaterial) =>
      issuingRoot(x.chainPem, trust.rootsPem) === trust.signingRoot;
    if (underSigningRoot(m)) return false;
    // A renewal already in flight may have been signed before the switch: then ask once more.
    this.renew()
      .then((got) => (underSigningRoot(got) ? got : this.renew()))
      .catch(() => undefined); // failures are reported through "renewFailed" and retried
    return true;
  }

  /** Cancels the pending renewal; the current certificate stays usable. */
  stop(): void {
    this.#stopped = true;
    this.#cancelTimer();
  }

  async #fetch(): Promise<IdentityMaterial> {
    try {
      const { csrPem, keyPem } = await generateCsr();
      const token = typeof this.#o.token === "string" ? this.#o.token : await this.#o.token();
      const res = await this.#o.requestCertificate(csrPem, token);
      // The pushed bundle is the control plane's latest word; the CA's answer is the same or older.
      const answer = this.#trust ? { ...res, trustBundlePem: this.#trust.rootsPem } : res;
      const material = materialFromResponse(keyPem, answer, this.#o.expectedSpiffeId);
      this.#current = material;
      this.#failures = 0;
      this.#schedule(this.renewDelayMs(material));
      this.emit("rotated", material);
      return material;
    } catch (err) {
      const retry = Math.min(
        (this.#o.retryInitialMs ?? 1000) * 2 ** this.#failures,
        this.#o.retryMaxMs ?? 60_000,
      );
      this.#failures++;
      // With no certificate yet the caller decides; with one, keep it and retry in the background.
      if (this.#current) {
        this.#schedule(retry);
        this.emit("renewFailed", err, retry);
      }
      throw err;
    }
  }

  /** Delay until the next renewal: a fraction of what is left of the certificate's life. */
  renewDelayMs(material: IdentityMaterial): number {
    const left = material.notAfter.getTime() - this.#clock().getTime();
    return Math.max(this.#o.minRenewDelayMs ?? 1000, Math.floor(left * (this.#o.renewFraction ?? 0.5)));
  }

  #cancelTimer(): void {
    if (this.#timer !== undefined) this.#scheduler.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(ms: number): void {
    this.#cancelTimer();
    if (this.#stopped) return;
    this.#timer = this.#scheduler.setTimeout(() => {
      this.#timer = undefined;
      this.renew().catch(() => undefined); // failures are reported through "renewFailed"
    }, ms);
  }
}
