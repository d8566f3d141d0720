// Reads a sidecar's admin server over the unix socket it serves in its pod's run directory (the same
// server as 127.0.0.1:15000 inside the pod), for `shoal proxy-config`.
import http from "node:http";
import { ShoalError } from "../../api/errors.js";

/** GET `path` on the admin socket; resolves to the body of a 200 answer. */
export function adminGet(socketPath: string, path: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath, path, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        if (res.statusCode === 200) resolve(body);
        else
          reject(
            new ShoalError("PROXY_ADMIN", `proxy admin ${path} answered ${res.statusCode}: ${body.trim()}`),
          );
      });
    });
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (err) =>
      reject(
        new ShoalError("PROXY_UNREACHABLE", `cannot reach the proxy's admin (${socketPath}): ${err.message}`),
      ),
    );
  });
}

/** The proxy's certificates (its /certs): the workload leaf and the mesh roots. */
export async function fetchProxyCertificates(socketPath: string): Promise<unknown> {
  return (JSON.parse(await adminGet(socketPath, "/certs")) as { certificates?: unknown }).certificates ?? [];
}

/** The ProxyConfig the proxy runs now (its /config_dump), or a ShoalError when it has none. */
export async function fetchProxyConfig(socketPath: string, pod: string): Promise<unknown> {
  const dump = JSON.parse(await adminGet(socketPath, "/config_dump")) as { config?: unknown };
  if (!dump.config) throw new ShoalError("PROXY_NO_CONFIG", `the proxy of ${pod} has no config yet`);
  return dump.config;
}
