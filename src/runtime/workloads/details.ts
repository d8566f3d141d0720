// The bookinfo details stand-in (istio/examples-bookinfo-details-*): GET /details/ID answers the book
// record the Istio sample serves, GET /health says it is healthy. Bodies are compact JSON, byte for byte
// what the Ruby service's `to_json` writes.
import { methodNotAllowed, send, sendCompactJson, type Handler } from "./http-util.js";

export const BOOKINFO_PORT = 9080;

/** The record bookinfo's details service returns for every product id. */
export function bookDetails(id: number): Record<string, unknown> {
  return {
    id,
    author: "William Shakespeare",
    year: 1595,
    type: "paperback",
    pages: 200,
    publisher: "PublisherA",
    language: "English",
    "ISBN-10": "1234567890",
    "ISBN-13": "123-1234567890",
  };
}

export function detailsHandler(): Handler {
  return (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const method = req.method ?? "";
    const isGet = method === "GET" || method === "HEAD";
    if (path === "/health") {
      if (!isGet) methodNotAllowed(res, ["GET", "HEAD"]);
      else sendCompactJson(res, 200, { status: "Details is healthy" });
      return;
    }
    const match = /^\/details\/([^/]*)$/.exec(path);
    if (match === null) {
      send(res, 404, "Not Found\n", "text/plain; charset=utf-8");
      return;
    }
    if (!isGet) {
      methodNotAllowed(res, ["GET", "HEAD"]);
      return;
    }
    // Like the Ruby service: the id must be an integer, else 400 with its error message.
    const idText = decodeURIComponent(match[1]!);
    if (!/^-?\d+$/.test(idText)) {
      sendCompactJson(res, 400, { error: "please provide numeric product id" });
      return;
    }
    sendCompactJson(res, 200, bookDetails(Number(idText)));
  };
}
