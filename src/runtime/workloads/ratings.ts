// The bookinfo ratings stand-in (istio/examples-bookinfo-ratings-v1): GET /ratings/ID answers the two
// reviewers' stars for a product, POST /ratings/ID replaces them, GET /health says it is healthy. Bodies
// are compact JSON like the Node.js service's.
import { readBody, send, sendCompactJson, type Handler } from "./http-util.js";

/** The stars every product starts with, as the Istio sample serves them. */
export const DEFAULT_RATINGS: Readonly<Record<string, number>> = { Reviewer1: 5, Reviewer2: 4 };

export function ratingsHandler(): Handler {
  // Ratings posted for a product stay in memory for the life of the process, as in the sample.
  const posted = new Map<number, Record<string, number>>();
  return async (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const method = req.method ?? "";
    if (path === "/health" && (method === "GET" || method === "HEAD")) {
      sendCompactJson(res, 200, { status: "Ratings is healthy" });
      return;
    }
    const match = /^\/ratings\/([^/]*)$/.exec(path);
    if (match === null || (method !== "GET" && method !== "HEAD" && method !== "POST")) {
      send(res, 404, "Not Found\n", "text/plain; charset=utf-8");
      return;
    }
    const id = /^-?\d+$/.test(match[1]!) ? Number(match[1]) : NaN;
    if (Number.isNaN(id)) {
      sendCompactJson(res, 400, { error: "please provide numeric product ID" });
      return;
    }
    if (method === "POST") {
      let ratings: unknown;
      try {
        ratings = JSON.parse((await readBody(req)).toString("utf8"));
      } catch {
        ratings = undefined;
      }
      if (ratings === null || typeof ratings !== "object" || Array.isArray(ratings)) {
        sendCompactJson(res, 400, { error: "please provide valid ratings JSON" });
        return;
      }
      posted.set(id, ratings as Record<string, number>);
      sendCompactJson(res, 200, { id, ratings });
      return;
    }
    sendCompactJson(res, 200, { id, ratings: posted.get(id) ?? DEFAULT_RATINGS });
  };
}
