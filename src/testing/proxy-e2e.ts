// Pieces of the proxy capture e2e test: a tcp-echo-like application (and a byte sink for throughput),
// certificate directories the proxy reads as uid 1337, and the ProxyConfig pair for client and server.
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CERT_FILES } from "../proxy/file-identity.js";
import type { ProxyConfig } from "../proxy/proxy-config.js";
import { proxyConfigSchema } from "../proxy/proxy-config.js";
import { authzFor } from "./proxy-harness.js";

/**
 * `node -e <script> echo:9000 sink:9001 …`: echo answers "hello <line>" for every line and ends when the
 * client does (like Istio's tcp-echo); sink counts the bytes it reads and answers the count at the end.
 */
export const tcpEchoScript = `
const net = require("node:net");
for (const spec of process.argv.slice(1)) {
  const [kind, port] = spec.split(":");
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on("error", () => {});
    let n = 0, buf = "";
    s.on("data", (d) => {
      if (kind === "sink") { n += d.length; return; }
      buf += d.toString();
      let i;
      while ((i = buf.indexOf("\\n")) >= 0) { s.write("hello " + buf.slice(0, i + 1)); buf = buf.slice(i + 1); }
    });
    s.on("end", () => s.end(kind === "sink" ? String(n) + "\\n" : buf ? "hello " + buf : ""));
  });
  server.listen(Number(port), () => console.log("listening on " + spec));
}
process.on("SIGTERM", () => process.exit(0));
`;

export interface PemSet {
  key: string;
  cert: string;
  ca: string;
}

/** Writes cert-chain.pem / key.pem / root-cert.pem where uid 1337 can read them. */
export async function writeCertDir(dir: string, pem: PemSet): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, CERT_FILES.chain), pem.cert);
  await writeFile(join(dir, CERT_FILES.key), pem.key);
  await writeFile(join(dir, CERT_FILES.roots), pem.ca);
  await chmod(dir, 0o755);
  for (const f of Object.values(CERT_FILES)) await chmod(join(dir, f), 0o644);
}

export interface PodInfo {
  namespace: string;
  name: string;
  ip: string;
  serviceAccount: string;
}

function node(p: PodInfo) {
  return {
    id: `sidecar~${p.ip}~${p.name}.${p.namespace}~${p.namespace}.svc.cluster.local`,
    kind: "sidecar",
    namespace: p.namespace,
    podName: p.name,
    workloadName: p.name,
    labels: { app: p.name },
    serviceAccount: p.serviceAccount,
    ip: p.ip,
  };
}

const MESH = {
  trustDomain: "cluster.local",
  rootNamespace: "istio-system",
  outboundTrafficPolicy: "ALLOW_ANY",
};
const DEFAULT_CLUSTERS = [
  { name: "PassthroughCluster", type: "ORIGINAL_DST" },
  { name: "BlackHoleCluster", type: "BLACKHOLE" },
  { name: "InboundPassthroughCluster", type: "ORIGINAL_DST" },
];

/** The server's config: STRICT mTLS on the given ports, and the given policies. */
export function serverConfig(
  p: PodInfo,
  ports: number[],
  policies: unknown[] = [],
  version = "s1",
): ProxyConfig {
  return proxyConfigSchema.parse({
    version,
    node: node(p),
    mesh: MESH,
    inbound: {
      chains: [
        ...ports.map((port) => ({
          name: `inbound|${port}||`,
          port,
          protocol: "tcp",
          mtls: { mode: "STRICT", policy: `${p.namespace}/default` },
          upstreamAddress: p.ip,
        })),
        {
          name: "InboundPassthroughCluster",
          port: null,
          protocol: "tcp",
          mtls: { mode: "PERMISSIVE", policy: null },
          upstreamAddress: p.ip,
        },
      ],
      authz: authzFor(policies),
    },
    outbound: { listeners: [], defaultCluster: "PassthroughCluster" },
    clusters: DEFAULT_CLUSTERS,
  });
}

/** The client's config: the service VIP's ports → the server pod over ISTIO_MUTUAL. */
export function clientConfig(
  p: PodInfo,
  svc: { host: string; vip: string; ports: number[] },
  server: { ip: string; spiffeId: string },
): ProxyConfig {
  const cluster = (port: number) => `outbound|${port}||${svc.host}`;
  return proxyConfigSchema.parse({
    version: "c1",
    node: node(p),
    mesh: MESH,
    inbound: { chains: [] },
    outbound: {
      listeners: svc.ports.map((port) => ({
        name: `${svc.vip}_${port}`,
        address: svc.vip,
        port,
        protocol: "tcp",
        cluster: cluster(port),
      })),
      defaultCluster: "PassthroughCluster",
    },
    clusters: [
      ...DEFAULT_CLUSTERS,
      ...svc.ports.map((port) => ({
        name: cluster(port),
        type: "EDS",
        service: { host: svc.host, port },
        endpoints: [
          { address: server.ip, port, tls: { mode: "ISTIO_MUTUAL", subjectAltNames: [server.spiffeId] } },
        ],
      })),
    ],
  });
}
