// The admin server on 127.0.0.1:15000: /config_dump (the current ProxyConfig and its version), /certs
// (the workload certificate and mesh roots), /ready
// (200 once a config is loaded), /stats (the counters, text or ?format=json) and /stats/prometheus
// (Istio's standard metrics, as on :15090). A gateway with workers hands in a function that collects the
// sum over its workers.
import http from "node:http";
import type { CertificateInfo } from "./certificates.js";
import type { ProxyConfig } from "./proxy-config.js";
import { PROMETHEUS_CONTENT_TYPE } from "./metrics-server.js";
import type { ProxyStats } from "./stats.js";

export interface AdminSource {
  config(): ProxyConfig | undefined;
  /** The stats, or a function that collects them (a gateway's primary sums its workers'). */
  stats: ProxyStats | (() => Promise<ProxyStats>);
  /** Ready beyond "has a config" (a gateway's workers all listening with it); default: has a config. */
  ready?: () => boolean;
  /** The proxy's certificates (Envoy's /certs), empty without a workload identity. */
  certificates(): CertificateInfo[];
}

/** The stats now, whichever form the source gives. */
export async function statsOf(stats: AdminSource["stats"]): Promise<ProxyStats> {
  return typeof stats === "function" ? stats() : stats;
}

export function adminServer(src: AdminSource): http.Server {
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://admin");
    const send = (code: number, body: string, type = "text/plain; charset=utf-8") => {
      res.writeHead(code, { "content-type": type });
      res.end(body);
    };
    const failed = (err: unknown) => {
      if (!res.headersSent) send(503, `stats unavailable: ${(err as Error).message}\n`);
    };
    if (req.method !== "GET") return send(405, "method not allowed\n");
    const config = src.config();
    switch (url.pathname) {
      case "/ready":
        return config && (src.ready?.() ?? true) ? send(200, "LIVE\n") : send(503, "no config yet\n");
      case "/config_dump":
        return send(
          200,
          JSON.stringify({ version: config?.version ?? null, config: config ?? null }, null, 2) + "\n",
          "application/json",
        );
      case "/certs":
        return send(
          200,
          JSON.stringify({ certificates: src.certificates() }, null, 2) + "\n",
          "application/json",
        );
      case "/stats":
        return void statsOf(src.stats).then(
          (stats) =>
            url.searchParams.get("format") === "json"
              ? send(
                  200,
                  JSON.stringify({ counters: stats.snapshot(), peers: stats.peers() }) + "\n",
                  "application/json",
                )
              : send(200, stats.text()),
          failed,
        );
      case "/stats/prometheus":
        return void statsOf(src.stats).then(
          (stats) => send(200, stats.mesh.text(), PROMETHEUS_CONTENT_TYPE),
          failed,
        );
      default:
        return send(404, "endpoints: /config_dump /certs /ready /stats /stats/prometheus\n");
    }
  });
}
