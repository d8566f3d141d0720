// The Prometheus endpoint (:15090 in a pod, like Envoy's): GET /stats/prometheus answers Istio's
// standard metrics in the text exposition format.
import http from "node:http";
import type { MeshMetrics } from "./metrics.js";

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export function prometheusServer(metrics: MeshMetrics): http.Server {
  return http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/stats/prometheus") {
      res.writeHead(200, { "content-type": PROMETHEUS_CONTENT_TYPE });
      return void res.end(metrics.text());
    }
    res.writeHead(404, { "content-type": "text/plain" });
    res.end("endpoints: /stats/prometheus\n");
  });
}
