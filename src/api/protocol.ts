// The protocol of a Service port, decided the way Istio decides it: appProtocol first, then the port
// name's prefix (`http-foo`, `tcp`, `grpc-web`), else unknown (treated as TCP).

export type PortProtocol =
  "HTTP" | "HTTP2" | "GRPC" | "HTTPS" | "TLS" | "TCP" | "MONGO" | "MYSQL" | "REDIS" | "UNKNOWN";

const PREFIXES: Record<string, PortProtocol> = {
  http: "HTTP",
  http2: "HTTP2",
  h2c: "HTTP2",
  grpc: "GRPC",
  "grpc-web": "GRPC",
  https: "HTTPS",
  tls: "TLS",
  tcp: "TCP",
  mongo: "MONGO",
  mysql: "MYSQL",
  redis: "REDIS",
};

function fromWord(word: string | undefined): PortProtocol | undefined {
  if (!word) return undefined;
  const w = word.toLowerCase();
  // appProtocol may be namespaced, e.g. kubernetes.io/h2c.
  const bare = w.includes("/") ? w.slice(w.lastIndexOf("/") + 1) : w;
  return PREFIXES[bare];
}

/** Istio's protocol selection for a Service port. */
export function portProtocol(port: {
  name?: string | undefined;
  appProtocol?: string | undefined;
}): PortProtocol {
  // appProtocol wins over the name.
  const byApp = fromWord(port.appProtocol);
  if (byApp) return byApp;
  const name = port.name ?? "";
  // `<protocol>[-<suffix>]`: the prefix before the first '-' (grpc-web is matched whole first).
  return fromWord(name.startsWith("grpc-web") ? "grpc-web" : name.split("-")[0]) ?? "UNKNOWN";
}

/** HTTP-family ports get L7 handling (per-request authorization, HTTP routing); all others are L4. */
export function isHttpProtocol(p: PortProtocol): boolean {
  return p === "HTTP" || p === "HTTP2" || p === "GRPC";
}
