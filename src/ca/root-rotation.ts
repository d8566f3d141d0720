// Root rotation with overlap, the way a mesh changes its root without dropping a connection:
//   1. a new root is made and every proxy is sent a trust bundle holding both roots;
//   2. the new root signs, and every proxy renews its leaf under it;
//   3. once every proxy serves a leaf under the new root, the old root leaves the bundle.
// Each phase waits for every connected proxy (bounded); on a timeout the rotation stays where it is
// (persisted by MeshRoots) and running it again continues from there.
import { ShoalError } from "../common/errors.js";
import type { MeshRoots, RotationPhase } from "./mesh-roots.js";

export interface ProxyLeaf {
  /** The proxy's node id. */
  node: string;
  /** Fingerprint of the root its served leaf chains to; undefined when it could not be read. */
  root?: string | undefined;
  error?: string | undefined;
}

export interface RotationHooks {
  /** Pushes the current trust to every proxy; resolves to the node ids that did not ACK in time. */
  publish(timeoutMs: number): Promise<string[]>;
  /** Every connected proxy and the root its served leaf chains to now. */
  leaves(): Promise<ProxyLeaf[]>;
  log(event: string, fields?: Record<string, unknown>): void;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

export interface RotationOptions {
  /** How long each phase waits for the proxies (default 30 s). */
  phaseTimeoutMs?: number;
  /** How often phase 2 looks at the proxies' leaves (default 200 ms). */
  pollMs?: number;
}

export interface RotationReport {
  /** Fingerprint of the root that was replaced, and of the one that replaced it. */
  oldRoot: string;
  newRoot: string;
  /** The phases this run went through, in order, with how long each took. */
  phases: Array<{ phase: "trust" | "reissue" | "drop"; proxies: number; ms: number }>;
  /** Proxies that had not ACKed the final bundle when the command returned (their peers already trust only the new root). */
  lagging: string[];
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function timeout(
  phase: string,
  what: string,
  nodes: string[],
  ms: number,
  current: RotationPhase,
): ShoalError {
  return new ShoalError(
    "CA_ROTATION_TIMEOUT",
    `root rotation ${phase}: ${nodes.length} prox${nodes.length === 1 ? "y" : "ies"} ${what} within ${ms / 1000} s: ` +
      `${nodes.join(", ")}; the rotation stays in phase "${current}" (run it again to continue)`,
  );
}

/** Runs (or continues) a rotation to the end; throws CA_ROTATION_TIMEOUT when proxies do not follow. */
export async function rotateRoot(
  roots: MeshRoots,
  hooks: RotationHooks,
  o: RotationOptions = {},
): Promise<RotationReport> {
  const now = hooks.now ?? (() => new Date());
  const sleep = hooks.sleep ?? defaultSleep;
  const limit = o.phaseTimeoutMs ?? 30_000;
  const phases: RotationReport["phases"] = [];
  const oldRoot =
    roots.phase === "reissue"
      ? (roots.roots().find((r) => !r.signing)?.fingerprint ?? "")
      : roots.signingRoot;

  if (roots.phase === "none") {
    await roots.advance(now());
    hooks.log("root rotation: new root trusted beside the old one", { newRoot: newRootOf(roots) });
  }
  if (roots.phase === "trust") {
    // Phase 1: every proxy must trust the new root before any leaf is signed by it.
    const t0 = Date.now();
    const behind = await hooks.publish(limit);
    if (behind.length > 0)
      throw timeout("phase 1", "did not take the two-root trust bundle", behind, limit, roots.phase);
    phases.push({ phase: "trust", proxies: (await hooks.leaves()).length, ms: Date.now() - t0 });
    await roots.advance(now());
    hooks.log("root rotation: the new root signs; proxies renew their leaves", {
      newRoot: roots.signingRoot,
    });
  }
  const newRoot = roots.signingRoot;
  // Phase 2: the new root signs; each proxy sees its leaf is under the old one and renews.
  const t1 = Date.now();
  const behind = await hooks.publish(limit);
  if (behind.length > 0)
    throw timeout("phase 2", "did not take the new signing root", behind, limit, roots.phase);
  const deadline = Date.now() + limit;
  let leaves: ProxyLeaf[];
  for (;;) {
    leaves = await hooks.leaves();
    const old = leaves.filter((l) => l.root !== newRoot);
    if (old.length === 0) break;
    if (Date.now() >= deadline) {
      const names = old.map((l) => (l.error ? `${l.node} (${l.error})` : l.node));
      throw timeout(
        "phase 2",
        "still serve a leaf that is not under the new root",
        names,
        limit,
        roots.phase,
      );
    }
    await sleep(o.pollMs ?? 200);
  }
  phases.push({ phase: "reissue", proxies: leaves.length, ms: Date.now() - t1 });
  // Phase 3: nobody presents an old-root leaf any more, so the old root can go.
  const t2 = Date.now();
  await roots.advance(now());
  hooks.log("root rotation: old root removed from the trust bundle", { root: newRoot });
  const lagging = await hooks.publish(limit);
  phases.push({ phase: "drop", proxies: leaves.length, ms: Date.now() - t2 });
  return { oldRoot, newRoot, phases, lagging };
}

function newRootOf(roots: MeshRoots): string | undefined {
  return roots.roots().find((r) => !r.signing)?.fingerprint;
}
