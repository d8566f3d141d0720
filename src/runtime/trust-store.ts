// The pods' trust store: what an OS image's CA bundle is to a container. Each cluster keeps, in its run
// directory (readable by every pod's uid, removed with the cluster), the host's public CAs plus the
// simulated outside world's "public" root, so a pod's curl, Python, Go or OpenSSL tools and the sidecar
// proxy verify https://httpbin.org the way they would verify a real public site: with no --cacert/-k.
// Tools find it through the variables they read for their CA file (no file under /etc is replaced).
import { join } from "node:path";
import { clusterRunDir } from "./run-dir.js";

export interface TrustFiles {
  /** The full bundle: the host's public CAs, then the outside world's root (what SSL_CERT_FILE names). */
  bundle: string;
  /** The outside world's root alone: roots to add to a tool's built-in list (NODE_EXTRA_CA_CERTS). */
  extraRoots: string;
}

export function trustFiles(clusterId: string): TrustFiles {
  const dir = join(clusterRunDir(clusterId), "trust");
  return { bundle: join(dir, "ca-certificates.crt"), extraRoots: join(dir, "public-roots.pem") };
}

/**
 * The cluster a network namespace belongs to: every name is `shoal-<clusterId>-<suffix>` with a suffix
 * free of `-` (a hash, `node` or `outside`), and cluster ids never end in `-`.
 */
export function clusterIdOfNetns(netns: string): string | undefined {
  return /^shoal-([a-z0-9][a-z0-9-]{0,39})-[a-z0-9]+$/.exec(netns)?.[1];
}

/**
 * The variables that point tools at the trust store: OpenSSL and Go read SSL_CERT_FILE, curl reads
 * CURL_CA_BUNDLE (then SSL_CERT_FILE), Python requests REQUESTS_CA_BUNDLE, Node adds NODE_EXTRA_CA_CERTS
 * to its own list.
 */
export function trustEnv(files: TrustFiles): Record<string, string> {
  return {
    SSL_CERT_FILE: files.bundle,
    CURL_CA_BUNDLE: files.bundle,
    REQUESTS_CA_BUNDLE: files.bundle,
    NODE_EXTRA_CA_CERTS: files.extraRoots,
  };
}

/**
 * The caller's environment without the trust variables, for commands exec'd into a pod: like kubectl
 * exec, they run with the pod's trust store, so a CA bundle the caller's shell names (SSL_CERT_FILE,
 * CURL_CA_BUNDLE, …) must not hide the outside world's root. A container's own env may still set them.
 */
export function withoutCallerTrust(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const names = new Set(Object.keys(trustEnv({ bundle: "", extraRoots: "" })));
  return Object.fromEntries(Object.entries(env).filter(([name]) => !names.has(name)));
}

/** Where distributions keep their CA bundle, in the order the host's is looked for. */
export const OS_BUNDLES = [
  "/etc/ssl/certs/ca-certificates.crt",
  "/etc/pki/tls/certs/ca-bundle.crt",
  "/etc/ssl/ca-bundle.pem",
  "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
  "/etc/ssl/cert.pem",
];

/** The full bundle: the host's CAs (when it has a bundle) followed by the outside world's root. */
export function renderTrustBundle(osBundle: string | undefined, publicRoot: string): string {
  const parts = [osBundle, `# Shoal simulated public web root\n${publicRoot}`].filter(
    (p): p is string => p !== undefined && p.trim() !== "",
  );
  return parts.map((p) => (p.endsWith("\n") ? p : `${p}\n`)).join("");
}

/**
 * The shell prelude that gives a command the trust variables unless its environment already sets them
 * (a container's own env wins), then execs it in place: `sh -c PRELUDE sh ARGV…`.
 */
export function trustPrelude(env: Record<string, string>): string[] {
  const assignments = Object.entries(env).map(([name, value]) => `${name}="\${${name}-${value}}"`);
  return ["sh", "-c", `export ${assignments.join(" ")}; exec "$@"`, "sh"];
}
