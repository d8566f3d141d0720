// The Prometheus endpoint (:15090 in a pod, like Envoy's): GET /stats/prometheus answers Istio's
// standard metrics in the text exposition format. A gateway's primary hands in a function that collects
// the sum over its workers.
import http from "node:http";
import type { MeshMetrics } from "./metrics.js";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export function prometheusServer(metrics: MeshMetrics | (() => Promise<MeshMetrics>)): http.Server {
  return http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/stats/prometheus") {
      if (typeof metrics !== "function") {
        res.writeHead(200, { "content-type": PROMETHEUS_CONTENT_TYPE });
        return void res.end(metrics.text());
      }
      return void metrics().then(
        (m) => {
          res.writeHead(200, { "content-type": PROMETHEUS_CONTENT_TYPE });
          res.end(m.text());
        },
        (err: unknown) => {
          res.writeHead(503, { "content-type": "text/plain" });
          res.end(`metrics unavailable: ${(err as Error).message}\n`);
        },
      );
    }
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("endpoints: /stats/prometheus\n");
  });
}
