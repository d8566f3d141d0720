// The helloworld stand-in (istio/examples-helloworld-v1/-v2): GET /hello answers which version and which
// pod served it, GET /health says it is healthy; port 5000 like the Flask sample.
import { send, type Handler } from "./http-util.js";

export const HELLOWORLD_PORT = 5000;

export interface HelloworldOptions {
  version: string;
  instance: string;
}

/** The version comes from the image (`--version v2`), SERVICE_VERSION overrides it; HOSTNAME is the pod. */
export function helloworldOptions(
  args: string[],
  env: Record<string, string | undefined>,
): HelloworldOptions {
  const i = args.indexOf("--version");
  return {
    version: env["SERVICE_VERSION"] ?? (i >= 0 ? (args[i + 1] ?? "v1") : "v1"),
    instance: env["HOSTNAME"] ?? "",
  };
}

export function helloworldHandler(options: HelloworldOptions): Handler {
  return (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(res, 405, "Method Not Allowed\n", "text/html; charset=utf-8", { Allow: "GET, HEAD, OPTIONS" });
    } else if (path === "/hello") {
      const text = `Hello version: ${options.version}, instance: ${options.instance}\n`;
      send(res, 200, text, "text/html; charset=utf-8");
    } else if (path === "/health") {
      send(res, 200, "Helloworld is healthy", "text/html; charset=utf-8");
    } else {
      send(res, 404, "Not Found\n", "text/html; charset=utf-8");
    }
  };
}
