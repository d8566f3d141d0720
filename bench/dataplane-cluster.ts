// The data-plane benchmark's real cluster path: the same wrk run (keep-alive, 50 connections, GET
// /details/0) from a sidecar pod to a sidecar pod on the local cluster, so the requests go through
// everything a mesh request goes through: iptables capture on both sides, mTLS between the sidecars, an
// ALLOW policy judged per request, access logs and metrics on. The sidecars' CPU per request is read
// from /proc (every uid-1337 process in each pod's network namespace). Needs root; it starts its own
// cluster (fresh state dir and cluster id) and tears it down whatever happens.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import type { MeshCluster } from "../src/testing/mesh-e2e.js";
import { SAMPLES, startMeshCluster } from "../src/testing/mesh-e2e.js";
import { parseWrk, sumCpuUs } from "./bench-support.js";

const NS = "bench";

const POLICY = `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: details-viewer
spec:
  selector:
    matchLabels:
      app: details
  action: ALLOW
  rules:
    - from:
        - source:
            principals: ["cluster.local/ns/${NS}/sa/curl"]
      to:
        - operation:
            methods: ["GET"]
            paths: ["/details/*"]
`;

export interface ClusterRound {
  rps: number;
  requests: number;
  p50: number;
  p99: number;
  cpuUsPerReq: number;
}

/** The proxy processes (uid 1337) in the network namespace whose inode is `netns`. */
function proxiesIn(netns: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readlinkSync(join("/proc", d, "ns/net")) !== netns) continue;
      const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(join("/proc", d, "status"), "utf8"))?.[1];
      if (uid === "1337") pids.push(Number(d));
    } catch {
      // The process went away meanwhile.
    }
  }
  return pids;
}

/** A cluster with details (server) and curl (client) injected, the ALLOW policy applied. */
export async function startBenchCluster(): Promise<{ cluster: MeshCluster; sidecars: number[] }> {
  const c = await startMeshCluster("dpbench");
  try {
    await c.ok(["create", "namespace", NS]);
    await c.ok(["label", "namespace", NS, "istio-injection=enabled"]);
    await c.ok(["apply", "-n", NS, "-f", join(SAMPLES, "bookinfo", "details.yaml")]);
    await c.ok(["apply", "-n", NS, "-f", join(SAMPLES, "curl", "curl.yaml")]);
    await c.ok(["apply", "-n", NS, "-f", "-"], { stdin: POLICY });
    await c.waitPods(NS, 2, 90_000);
    const sidecars: number[] = [];
    for (const app of ["curl", "details"]) {
      const r = await c.sh(app, NS, "readlink /proc/self/ns/net");
      const pids = proxiesIn(r.stdout.trim());
      if (pids.length === 0) throw new Error(`no sidecar process found in pod app=${app}`);
      sidecars.push(...pids);
    }
    return { cluster: c, sidecars };
  } catch (err) {
    await c.close();
    throw err;
  }
}

/** One wrk run from the curl pod to details through both sidecars. */
export async function clusterWrk(
  c: MeshCluster,
  sidecars: number[],
  seconds: number,
  strict = true,
): Promise<ClusterRound> {
  const c0 = sumCpuUs(sidecars);
  const r = await c.sh(
    "curl",
    NS,
    `wrk -c50 -t2 -d${seconds}s --timeout 10s --latency http://details:9080/details/0`,
  );
  const c1 = sumCpuUs(sidecars);
  const out = r.stdout;
  if (r.code !== 0 || (strict && /Non-2xx|Socket errors/.test(out)))
    throw new Error(`wrk in the cluster failed (${r.code}):\n${out}${r.stderr}`);
  const w = parseWrk(out);
  return { ...w, cpuUsPerReq: w.requests > 0 ? (c1 - c0) / w.requests : NaN };
}
