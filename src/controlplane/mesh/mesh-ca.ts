// The local cluster's CA: the mesh roots from the state directory, the CA service that signs proxies'
// CSRs (tokens bound to pods the store still has), the trust every config carries, root rotation, and
// the status behind `shoal x ca status`.
import { createHash } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { ShoalError } from "../../api/errors.js";
import type { PodLookup } from "../../ca/bootstrap-token.js";
import { createCaService } from "../../ca/ca-service.js";
import type { CaService } from "../../ca/ca-service.js";
import { MeshRoots } from "../../ca/mesh-roots.js";
import type { RootInfo, RotationPhase } from "../../ca/mesh-roots.js";
import { rotateRoot } from "../../ca/root-rotation.js";
import type { ProxyLeaf, RotationReport } from "../../ca/root-rotation.js";
import type { ProxyConfig } from "../../proxy/proxy-config.js";
import type { ProxyStatusRow } from "../xds/status.js";

export interface CaStatus {
  trustDomain: string;
  /** "none" when no rotation is in progress. */
  rotationPhase: RotationPhase;
  rotationStartedAt?: string | undefined;
  signingRoot: string;
  roots: RootInfo[];
  /** Each connected proxy and the root its leaf chains to (`signing: true` when it is the signing one). */
  proxies: Array<ProxyLeaf & { namespace: string; pod: string; signing: boolean }>;
}

export interface MeshCa {
  service: CaService;
  roots: MeshRoots;
  /** The config with the current trust added (and its version changed with it). */
  withTrust(config: ProxyConfig): ProxyConfig;
  status(): Promise<CaStatus>;
  rotateRoot(o?: { phaseTimeoutMs?: number }): Promise<RotationReport>;
}

export interface MeshCaDeps {
  stateDir: string;
  /** The mesh config's trust domain: the one identities are issued in. */
  trustDomain?: string;
  now: Date;
  pods: PodLookup;
  /** The control plane's bootstrap-token verification keys. */
  tokenKeys: ReadonlyArray<KeyObject>;
  /** Connected proxies (the push server's rows). */
  proxies: () => ProxyStatusRow[];
  /** The certificates a proxy serves now, from its admin (`/certs`). */
  certificates: (namespace: string, pod: string) => Promise<unknown>;
  /** Pushes to every proxy; the node ids that did not ACK within the timeout. */
  publish: (timeoutMs: number) => Promise<string[]>;
  log: (event: string, fields?: Record<string, unknown>) => void;
}

const shortHash = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 12);

export async function startMeshCa(d: MeshCaDeps): Promise<MeshCa> {
  const roots = await MeshRoots.load(d.stateDir, { now: d.now, trustDomain: d.trustDomain });
  if (roots.phase !== "none")
    d.log("root rotation in progress", {
      phase: roots.phase,
      hint: "run `shoal x ca rotate-root` to continue",
    });
  const service = createCaService({
    authority: () => roots.authority,
    tokenKeys: d.tokenKeys,
    pods: d.pods,
    onIssued: (e) =>
      d.log("certificate issued", {
        spiffeId: e.spiffeId,
        pod: `${e.claims.namespace}/${e.claims.pod}`,
        notAfter: e.notAfter,
      }),
  });
  let rotating: Promise<RotationReport> | undefined;

  async function leaves(): Promise<Array<ProxyLeaf & { namespace: string; pod: string }>> {
    const rows = d.proxies().filter((r) => r.connected);
    return Promise.all(
      rows.map(async (r) => {
        const base = { node: r.id, namespace: r.namespace, pod: r.podName };
        try {
          const certs = (await d.certificates(r.namespace, r.podName)) as Array<{
            name?: string;
            root?: string;
          }>;
          const leaf = certs.find((c) => c.name === "default");
          return { ...base, root: leaf?.root, ...(leaf ? {} : { error: "no workload certificate" }) };
        } catch (err) {
          return { ...base, error: (err as Error).message };
        }
      }),
    );
  }

  return {
    service,
    roots,
    withTrust(config) {
      const trust = { rootsPem: roots.trustBundlePem, signingRoot: roots.signingRoot };
      // The version must change with the trust, or the push server would not send it.
      return {
        ...config,
        version: `${config.version}.${shortHash(trust.rootsPem + trust.signingRoot)}`,
        trust,
      };
    },
    async status() {
      const signingRoot = roots.signingRoot;
      return {
        trustDomain: roots.authority.trustDomain,
        rotationPhase: roots.phase,
        ...(roots.startedAt ? { rotationStartedAt: roots.startedAt } : {}),
        signingRoot,
        roots: roots.roots(),
        proxies: (await leaves()).map((l) => ({ ...l, signing: l.root === signingRoot })),
      };
    },
    rotateRoot(o = {}) {
      if (rotating) throw new ShoalError("CA_ROTATION_BUSY", "a root rotation is already running");
      rotating = rotateRoot(roots, { publish: d.publish, leaves, log: d.log }, o).finally(() => {
        rotating = undefined;
      });
      return rotating;
    },
  };
}
