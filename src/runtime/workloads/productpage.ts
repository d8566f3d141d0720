// The bookinfo productpage stand-in (istio/examples-bookinfo-productpage-*): /productpage renders the book
// with its details and reviews, calling the details and reviews services the way the Python service
// does (3 s timeout each; reviews tried twice), passing on the tracing headers and the user. The JSON
// API (/api/v1/products[/ID[/reviews|/ratings]]), /login, /logout and /health answer as in the sample.
import type http from "node:http";

import { BOOKINFO_PORT } from "./details.js";
import { TRACING_HEADERS, getJson, pickHeaders } from "./call.js";
import { readBody, send, type Handler } from "./http-util.js";
import type { Logger } from "./log.js";
import { renderProductPage, type Fetched, type Product } from "./productpage-html.js";

export interface Endpoint {
  host: string;
  port: number;
}

export interface ProductpageOptions {
  detailsHost: string;
  detailsPort: number;
  reviews: Endpoint;
  ratings: Endpoint;
  /** Timeout of each call to another service. */
  timeoutMs: number;
}

type Env = Record<string, string | undefined>;

function endpoint(env: Env, service: string, domain: string): Endpoint {
  const upper = service.toUpperCase();
  const port = Number(env[`${upper}_SERVICE_PORT`] ?? env[`${upper}_PORT`] ?? BOOKINFO_PORT);
  return {
    host: (env[`${upper}_HOSTNAME`] ?? service) + domain,
    port: Number.isInteger(port) ? port : BOOKINFO_PORT,
  };
}

/**
 * Where the other services are: `<SERVICE>_HOSTNAME` (default the service name), SERVICES_DOMAIN appended
 * when set, `<SERVICE>_SERVICE_PORT` (default 9080), for details, reviews and ratings.
 */
export function productpageOptions(env: Env): ProductpageOptions {
  const domain = env["SERVICES_DOMAIN"] ? `.${env["SERVICES_DOMAIN"]}` : "";
  const details = endpoint(env, "details", domain);
  return {
    detailsHost: details.host,
    detailsPort: details.port,
    reviews: endpoint(env, "reviews", domain),
    ratings: endpoint(env, "ratings", domain),
    // productpage.py: `requests.get(url, headers=headers, timeout=3.0)` for every call.
    timeoutMs: 3000,
  };
}

/** Headers productpage passes on so traces, Istio's routing by header and the session keep working. */
const PROPAGATED = [...TRACING_HEADERS, "b3", "end-user", "user-agent", "cookie", "authorization", "jwt"];

const PRODUCTS: Product[] = [
  {
    id: 0,
    title: "The Comedy of Errors",
    descriptionHtml:
      '<a href="https://en.wikipedia.org/wiki/The_Comedy_of_Errors">Wikipedia Summary</a>: The Comedy of Errors is one of <b>William Shakespeare\'s</b> early plays. It is his shortest and one of his most farcical comedies, with a major part of the humour coming from slapstick and mistaken identity, in addition to puns and word play.',
  },
];

/** The signed-in user: the `user` cookie /login sets. */
export function sessionUser(req: http.IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === "user") {
      const user = decodeURIComponent(value.join("="));
      if (user !== "") return user;
    }
  }
  return undefined;
}

/**
 * The headers of a call to another service: the propagated ones as they came in, and `end-user` set to
 * the signed-in user (the sample's session) when there is one, else passed on as it came.
 */
export function forwardHeaders(req: http.IncomingMessage): Record<string, string> {
  const headers = pickHeaders(req.headers, PROPAGATED);
  const user = sessionUser(req);
  if (user !== undefined) headers["end-user"] = user;
  return headers;
}

function unavailable(service: string, status: number): Fetched {
  // productpage.py: the peer's status when it answered, else 500.
  return {
    status: status === 0 ? 500 : status,
    body: { error: `Sorry, product ${service} are currently unavailable for this book.` },
  };
}

async function call(
  target: Endpoint,
  path: string,
  service: string,
  headers: Record<string, string>,
  options: ProductpageOptions,
  tries: number,
  log?: Logger,
): Promise<Fetched> {
  let status = 0;
  for (let attempt = 1; attempt <= tries; attempt++) {
    const answer = await getJson({
      host: target.host,
      port: target.port,
      path,
      headers,
      timeoutMs: options.timeoutMs,
    });
    if (answer.status === 200 && answer.json !== null && typeof answer.json === "object") {
      return { status: 200, body: answer.json as Record<string, unknown> };
    }
    status = answer.status;
    log?.("call-failed", { service, path, attempt, error: answer.error });
  }
  return unavailable(service, status);
}

export function fetchDetails(
  options: ProductpageOptions,
  id: number,
  headers: Record<string, string>,
  log?: Logger,
) {
  const details = { host: options.detailsHost, port: options.detailsPort };
  return call(details, `/details/${id}`, "details", headers, options, 1, log);
}

/** productpage.py tries reviews twice ("bug introduced explicitly for illustration in fault injection"). */
export function fetchReviews(
  options: ProductpageOptions,
  id: number,
  headers: Record<string, string>,
  log?: Logger,
) {
  return call(options.reviews, `/reviews/${id}`, "reviews", headers, options, 2, log);
}

function sendJsonApi(res: http.ServerResponse, fetched: Fetched): void {
  send(res, fetched.status, JSON.stringify(fetched.body), "application/json");
}

function redirect(res: http.ServerResponse, req: http.IncomingMessage, cookie: string): void {
  const location = req.headers.referer ?? "/productpage";
  res.writeHead(302, { Location: location, "Set-Cookie": cookie, "Content-Length": 0 });
  res.end();
}

export function productpageHandler(options: ProductpageOptions, log?: Logger): Handler {
  return async (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path === "/login" && req.method === "POST") {
      const form = new URLSearchParams((await readBody(req)).toString("utf8"));
      redirect(res, req, `user=${encodeURIComponent(form.get("username") ?? "")}; Path=/`);
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(res, 405, "Method Not Allowed\n", "text/plain; charset=utf-8", { Allow: "GET, HEAD" });
      return;
    }
    const product = /^\/api\/v1\/products\/(-?\d+)(\/reviews|\/ratings)?$/.exec(path);
    if (path === "/health") {
      send(res, 200, "Product page is healthy", "text/html; charset=utf-8");
    } else if (path === "/" || path === "/index.html") {
      send(
        res,
        200,
        '<html><body><a href="/productpage">Bookinfo productpage</a></body></html>\n',
        "text/html",
      );
    } else if (path === "/logout") {
      redirect(res, req, "user=; Path=/; Max-Age=0");
    } else if (path === "/productpage") {
      const headers = forwardHeaders(req);
      const details = await fetchDetails(options, 0, headers, log);
      const reviews = await fetchReviews(options, 0, headers, log);
      const html = renderProductPage(PRODUCTS[0]!, details, reviews, sessionUser(req));
      send(res, 200, html, "text/html; charset=utf-8");
    } else if (path === "/api/v1/products") {
      send(res, 200, JSON.stringify(PRODUCTS), "application/json");
    } else if (product !== null) {
      const id = Number(product[1]);
      const headers = forwardHeaders(req);
      if (product[2] === "/reviews") sendJsonApi(res, await fetchReviews(options, id, headers, log));
      else if (product[2] === "/ratings")
        sendJsonApi(res, await call(options.ratings, `/ratings/${id}`, "ratings", headers, options, 1, log));
      else sendJsonApi(res, await fetchDetails(options, id, headers, log));
    } else {
      send(res, 404, "Not Found\n", "text/plain; charset=utf-8");
    }
  };
}
