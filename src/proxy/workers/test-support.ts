// Fixtures of the gateway-worker tests: a gateway config with one routed HTTP port, and one request on a
// connection of its own (so the kernel may hand it to either worker).
import { once } from "node:events";
import http from "node:http";
import { asGatewayConfig, testConfig } from "../../testing/proxy-harness.js";
import type { ProxyConfig } from "../proxy-config.js";

/** Port 8080 routes Host example.com to the app on `version` v1; v2 routes it to no cluster (404). */
export function gatewayConfig(version: string, appPort: number, routed: boolean): ProxyConfig {
  const base = testConfig({
    version,
    namespace: "istio-system",
    defaultCluster: "BlackHoleCluster",
    listeners: [
      {
        name: "0.0.0.0_8080",
        address: "0.0.0.0",
        port: 8080,
        protocol: "http",
        virtualHosts: [
          {
            name: "example.com:80",
            domains: [routed ? "example.com" : "other.example.com"],
            routes: [
              { name: "r", matches: [], clusters: [{ cluster: "outbound|80||example.com", weight: 100 }] },
            ],
          },
        ],
      },
    ],
    clusters: [
      { name: "outbound|80||example.com", type: "EDS", endpoints: [{ address: "127.0.0.1", port: appPort }] },
    ],
  });
  return asGatewayConfig(base, [{ port: 8080, serverPort: 80, listener: "0.0.0.0_8080", tls: [] }]);
}

/** One request on its own connection (so the kernel may hand it to either worker). */
export async function getExample(port: number): Promise<number> {
  const agent = new http.Agent({ keepAlive: false });
  try {
    const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
      http
        .get({ host: "127.0.0.1", port, path: "/", headers: { host: "example.com" }, agent }, resolve)
        .on("error", reject),
    );
    res.resume();
    await once(res, "end");
    return res.statusCode ?? 0;
  } finally {
    agent.destroy();
  }
}
