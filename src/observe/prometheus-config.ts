// Prometheus' configuration for the mesh, pure: one scrape job over a file_sd targets file, and that file
// with one target per running proxy (namespace and pod as labels, the relay's path to its metrics).
import type { AnyResource } from "../api/meta.js";

export const PROXY_CONTAINER_NAME = "istio-proxy";

export interface ProxyTarget {
  namespace: string;
  pod: string;
}

export function proxyTargets(pods: readonly AnyResource[]): ProxyTarget[] {
  return pods
    .filter((p) => {
      const spec = (p["spec"] ?? {}) as { containers?: Array<{ name?: string }> };
      const status = (p["status"] ?? {}) as { phase?: string };
      return (
        status.phase === "Running" && (spec.containers ?? []).some((c) => c.name === PROXY_CONTAINER_NAME)
      );
    })
    .map((p) => ({ namespace: p.metadata.namespace ?? "default", pod: p.metadata.name }))
    .sort((a, b) => `${a.namespace}/${a.pod}`.localeCompare(`${b.namespace}/${b.pod}`));
}

/** The file_sd document: every target at the relay, told apart by its metrics path. */
export function fileSdTargets(relay: string, targets: readonly ProxyTarget[]): unknown[] {
  return targets.map((t) => ({
    targets: [relay],
    labels: {
      __metrics_path__: `/proxies/${encodeURIComponent(t.namespace)}/${encodeURIComponent(t.pod)}/metrics`,
      namespace: t.namespace,
      pod: t.pod,
    },
  }));
}

export function prometheusYaml(targetsFile: string, scrapeIntervalS = 5): string {
  return [
    "global:",
    `  scrape_interval: ${scrapeIntervalS}s`,
    `  evaluation_interval: ${scrapeIntervalS}s`,
    "scrape_configs:",
    "  - job_name: shoal-proxies",
    "    file_sd_configs:",
    `      - files: [${JSON.stringify(targetsFile)}]`,
    "        refresh_interval: 5s",
    "",
  ].join("\n");
}
