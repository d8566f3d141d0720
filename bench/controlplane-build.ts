// Control-plane translation cost on a synthetic mesh: 1000 Services (half HTTP, half TCP) in 20
// namespaces, 5000 sidecar pods (5 per Service), 1000 AuthorizationPolicies, a STRICT PeerAuthentication
// and a DestinationRule per namespace. Times buildSnapshot, one cold build, every proxy's build, and
// affectedProxies after one policy change. Each phase stops at its time budget (total < 60 s) and
// reports how far it got. Run: npx tsc -p tsconfig.json && node dist/bench/controlplane-build.js
import type { AnyResource } from "../src/api/meta.js";
import { buildSnapshot } from "../src/controlplane/snapshot.js";
import { affectedProxies, sidecarProxies } from "../src/translate/affected.js";
import { build } from "../src/translate/build.js";
import { istio, pod, service } from "../src/translate/test-support.js";

/** `node dist/bench/controlplane-build.js 200` spreads the mesh over 200 namespaces (outbound is built
 *  once per namespace, so this is the knob that matters). */
const NAMESPACES = Number(process.argv[2] ?? 20);
const SERVICES = 1000;
const PODS_PER_SERVICE = 5;
const POLICIES = 1000;
const PHASE_BUDGET_MS = 20_000;

function ip(base: number, i: number): string {
  return `10.${base}.${Math.floor(i / 256)}.${i % 256}`;
}

function syntheticMesh(): AnyResource[] {
  const out: AnyResource[] = [];
  for (let s = 0; s < SERVICES; s++) {
    const ns = `ns-${s % NAMESPACES}`;
    const app = `svc-${s}`;
    const http = s % 2 === 0;
    out.push(
      service(ns, app, ip(96, s + 1), [
        http ? { name: "http", port: 8000, targetPort: 8080 } : { name: "tcp", port: 9000 + (s % 50) },
      ]),
    );
    for (let p = 0; p < PODS_PER_SERVICE; p++) {
      const n = s * PODS_PER_SERVICE + p;
      out.push(
        pod({ ns, name: `${app}-${p}`, ip: ip(244, n + 1), labels: { app, version: `v${p % 2}` }, sa: app }),
      );
    }
  }
  for (let i = 0; i < POLICIES; i++) {
    const ns = `ns-${i % NAMESPACES}`;
    out.push(
      istio("AuthorizationPolicy", ns, `p-${i}`, {
        selector: { matchLabels: { app: `svc-${(i * 7) % SERVICES}` } },
        action: "ALLOW",
        rules: [
          {
            from: [{ source: { principals: [`cluster.local/ns/${ns}/sa/svc-${i}`] } }],
            to: [{ operation: { methods: ["GET"] } }],
          },
        ],
      }),
    );
  }
  for (let n = 0; n < NAMESPACES; n++) {
    out.push(
      istio("PeerAuthentication", `ns-${n}`, "default", {
        mtls: { mode: n % 3 === 0 ? "STRICT" : "PERMISSIVE" },
      }),
    );
    out.push(
      istio("DestinationRule", `ns-${n}`, "subsets", {
        host: `svc-${n}`,
        subsets: [
          { name: "v0", labels: { version: "v0" } },
          { name: "v1", labels: { version: "v1" } },
        ],
      }),
    );
  }
  return out;
}

function time<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const r = fn();
  return [r, performance.now() - t0];
}

const resources = syntheticMesh();
const [snapshot, snapMs] = time(() => buildSnapshot(resources));
const proxies = sidecarProxies(snapshot);
console.log(
  `mesh: ${SERVICES} services, ${proxies.length} workloads, ${POLICIES} policies, ${NAMESPACES} namespaces`,
);
console.log(`buildSnapshot: ${snapMs.toFixed(0)} ms`);

const [first, coldMs] = time(() => build(snapshot, proxies[0]!));
const size = JSON.stringify(first.config).length;
console.log(
  `first build (cold: indexes + outbound for its namespace): ${coldMs.toFixed(0)} ms; config: ${first.config.clusters.length} clusters, ${first.config.outbound.listeners.length} listeners, ${(size / 1024).toFixed(0)} KiB JSON`,
);

let built = 0;
const t0 = performance.now();
for (const id of proxies) {
  build(snapshot, id);
  built++;
  if (performance.now() - t0 > PHASE_BUDGET_MS) break;
}
const allMs = performance.now() - t0;
console.log(
  `build every proxy: ${built}/${proxies.length} in ${allMs.toFixed(0)} ms (${(allMs / built).toFixed(2)} ms/proxy)`,
);

const changedOne = buildSnapshot([
  ...resources.filter((r) => !(r.kind === "AuthorizationPolicy" && r.metadata.name === "p-0")),
  istio("AuthorizationPolicy", "ns-0", "p-0", {}),
]);
let checked = 0;
let changed = 0;
const t1 = performance.now();
while (checked < built && performance.now() - t1 < PHASE_BUDGET_MS) {
  const batch = proxies.slice(checked, checked + 100);
  changed += affectedProxies(snapshot, changedOne, batch).length;
  checked += batch.length;
}
const affMs = performance.now() - t1;
console.log(
  `affectedProxies after changing one policy: ${changed} of ${checked} proxies changed, ${affMs.toFixed(0)} ms (old snapshot warm, new one cold)`,
);
