// The bookinfo productpage stand-in (istio/examples-bookinfo-productpage-*): /productpage renders a small
// HTML page with the book's details fetched from the details service (or a note that they are
// unavailable), /api/v1/products[/0] answers JSON, /health says it is healthy.
import http from "node:http";

import { BOOKINFO_PORT } from "./details.js";
import { send, sendJson, type Handler } from "./http-util.js";

export interface ProductpageOptions {
  detailsHost: string;
  detailsPort: number;
  timeoutMs: number;
}

/** DETAILS_HOSTNAME (default `details`), SERVICES_DOMAIN appended when set, DETAILS_SERVICE_PORT (9080). */
export function productpageOptions(env: Record<string, string | undefined>): ProductpageOptions {
  const domain = env["SERVICES_DOMAIN"] ? `.${env["SERVICES_DOMAIN"]}` : "";
  const port = Number(env["DETAILS_SERVICE_PORT"] ?? env["DETAILS_PORT"] ?? BOOKINFO_PORT);
  return {
    detailsHost: (env["DETAILS_HOSTNAME"] ?? "details") + domain,
    detailsPort: Number.isInteger(port) ? port : BOOKINFO_PORT,
    timeoutMs: 3000,
  };
}

/** Headers productpage passes on so traces and Istio's routing by header keep working. */
const PROPAGATED = [
  "x-request-id",
  "traceparent",
  "tracestate",
  "x-b3-traceid",
  "x-b3-spanid",
  "x-b3-parentspanid",
  "x-b3-sampled",
  "x-b3-flags",
  "b3",
  "x-ot-span-context",
  "x-cloud-trace-context",
  "grpc-trace-bin",
  "end-user",
  "user-agent",
  "cookie",
];

const PRODUCTS = [
  {
    id: 0,
    title: "The Comedy of Errors",
    descriptionHtml:
      '<a href="https://en.wikipedia.org/wiki/The_Comedy_of_Errors">Wikipedia Summary</a>: The Comedy of Errors is one of <b>William Shakespeare\'s</b> early plays.',
  },
];

type DetailsResult = { status: number; body: Record<string, unknown> };

function fetchDetails(
  options: ProductpageOptions,
  id: number,
  from: http.IncomingMessage,
): Promise<DetailsResult> {
  const headers: Record<string, string> = {};
  for (const name of PROPAGATED) {
    const value = from.headers[name];
    if (typeof value === "string") headers[name] = value;
  }
  return new Promise((resolve) => {
    const unavailable = (status: number) =>
      resolve({ status, body: { error: "Sorry, product details are currently unavailable for this book." } });
    const req = http.get(
      { host: options.detailsHost, port: options.detailsPort, path: `/details/${id}`, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", () => unavailable(503));
        res.on("end", () => {
          if (res.statusCode !== 200) {
            unavailable(res.statusCode ?? 503);
            return;
          }
          try {
            resolve({ status: 200, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
          } catch {
            unavailable(503);
          }
        });
      },
    );
    req.setTimeout(options.timeoutMs, () => req.destroy(new Error("timeout")));
    req.on("error", () => unavailable(503));
  });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderProductPage(details: DetailsResult): string {
  const product = PRODUCTS[0]!;
  const rows =
    details.status === 200
      ? Object.entries(details.body)
          .map(([key, value]) => `<dt>${escapeHtml(key)}</dt><dd>${escapeHtml(String(value))}</dd>`)
          .join("\n")
      : `<p class="error">Error fetching product details! ${escapeHtml(String(details.body["error"]))}</p>`;
  return `<!DOCTYPE html>
<html>
<head><title>Simple Bookstore App</title></head>
<body>
<h1>${escapeHtml(product.title)}</h1>
<p>${product.descriptionHtml}</p>
<h2>Book Details</h2>
<dl>
${rows}
</dl>
</body>
</html>
`;
}

export function productpageHandler(options: ProductpageOptions): Handler {
  return async (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(res, 405, "Method Not Allowed\n", "text/plain; charset=utf-8", { Allow: "GET, HEAD" });
      return;
    }
    if (path === "/health") {
      send(res, 200, "Product page is healthy", "text/html; charset=utf-8");
    } else if (path === "/" || path === "/index.html") {
      send(
        res,
        200,
        '<html><body><a href="/productpage">Bookinfo productpage</a></body></html>\n',
        "text/html",
      );
    } else if (path === "/productpage") {
      send(res, 200, renderProductPage(await fetchDetails(options, 0, req)), "text/html; charset=utf-8");
    } else if (path === "/api/v1/products") {
      sendJson(res, 200, PRODUCTS);
    } else if (/^\/api\/v1\/products\/-?\d+$/.test(path)) {
      const details = await fetchDetails(options, Number(path.split("/").pop()), req);
      sendJson(res, details.status, details.body);
    } else {
      send(res, 404, "Not Found\n", "text/plain; charset=utf-8");
    }
  };
}
