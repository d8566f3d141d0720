// The health endpoint on 15021 (Istio's `/healthz/ready`): 200 once the proxy has its config and its
// certificate, 503 before. Reachable from the pod's network (capture excludes the port), not only loopback.
import http from "node:http";

export function healthServer(ready: () => boolean): http.Server {
  return http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://health").pathname;
    if (path !== "/healthz/ready") {
      res.writeHead(404, { "content-type": "text/plain" });
      return res.end("endpoints: /healthz/ready\n");
    }
    const ok = ready();
    res.writeHead(ok ? 200 : 503, { "content-type": "text/plain" });
    res.end(ok ? "ready\n" : "not ready\n");
  });
}
