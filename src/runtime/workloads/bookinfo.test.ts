// bookinfo end to end on loopback: productpage → details and reviews (v1, v2, v3) → ratings, each the
// built-in stand-in, as Istio's traffic tasks see them.
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, test } from "node:test";

import { detailsHandler } from "./details.js";
import { startHttpServer } from "./http-util.js";
import { silentLogger } from "./log.js";
import { productpageHandler } from "./productpage.js";
import { ratingsHandler } from "./ratings.js";
import { reviewsHandler, reviewsOptions } from "./reviews.js";
import { closeServer, listen, type Running } from "./server.js";
import { request } from "./test-client.js";

const LOOP = "127.0.0.1";

describe("bookinfo: productpage shows the stars of the reviews version that answered", () => {
  const running: Running[] = [];
  let ratingsPort: number;
  let detailsPort: number;
  const start = async (r: Promise<Running>) => {
    const started = await r;
    running.push(started);
    return started.ports[0]!;
  };
  const pageFor = async (version: string) => {
    const reviews = reviewsOptions(["--version", version], {
      RATINGS_HOSTNAME: LOOP,
      RATINGS_SERVICE_PORT: String(ratingsPort),
      HOSTNAME: `reviews-${version}-abc`,
    });
    const reviewsPort = await start(startHttpServer(reviewsHandler(reviews), 0, LOOP, silentLogger));
    const options = {
      detailsHost: LOOP,
      detailsPort,
      reviews: { host: LOOP, port: reviewsPort },
      ratings: { host: LOOP, port: ratingsPort },
      timeoutMs: 3000,
    };
    const pagePort = await start(startHttpServer(productpageHandler(options), 0, LOOP, silentLogger));
    return (await request({ port: pagePort, path: "/productpage" })).body;
  };
  before(async () => {
    ratingsPort = await start(startHttpServer(ratingsHandler(), 0, LOOP, silentLogger));
    detailsPort = await start(startHttpServer(detailsHandler(), 0, LOOP, silentLogger));
  });
  after(async () => {
    for (const r of running) await r.close();
  });

  test("v1: reviews without stars", async () => {
    const page = await pageFor("v1");
    assert.match(page, /An extremely entertaining play by Shakespeare/);
    assert.match(page, /reviews-v1-abc/);
    assert.doesNotMatch(page, /glyphicon-star/);
    assert.match(page, /Book Details/);
  });

  test("v2: black stars, 5 and 4 of them", async () => {
    const page = await pageFor("v2");
    assert.equal((page.match(/<font color="black">/g) ?? []).length, 2);
    assert.equal((page.match(/glyphicon glyphicon-star"/g) ?? []).length, 9);
    assert.equal((page.match(/glyphicon-star-empty/g) ?? []).length, 1);
    assert.doesNotMatch(page, /color="red"/);
  });

  test("v3: red stars", async () => {
    const page = await pageFor("v3");
    assert.equal((page.match(/<font color="red">/g) ?? []).length, 2);
    assert.doesNotMatch(page, /color="black"/);
  });
});

describe("productpage towards reviews: headers passed on, one retry, the error text", () => {
  let fake: http.Server;
  let port: number;
  let page: Running;
  const seen: http.IncomingHttpHeaders[] = [];
  let status = 200;
  before(async () => {
    fake = http.createServer((req, res) => {
      seen.push(req.headers);
      if (req.url?.startsWith("/details/")) res.writeHead(200).end('{"type":"paperback"}');
      else if (status === 200) res.writeHead(200).end('{"id":"0","podname":"p","reviews":[]}');
      else res.writeHead(status).end("fault filter abort");
    });
    const fakePort = await listen(fake, 0, LOOP);
    const endpoint = { host: LOOP, port: fakePort };
    page = await startHttpServer(
      productpageHandler({
        detailsHost: LOOP,
        detailsPort: fakePort,
        reviews: endpoint,
        ratings: endpoint,
        timeoutMs: 3000,
      }),
      0,
      LOOP,
      silentLogger,
    );
    port = page.ports[0]!;
  });
  after(async () => {
    await page.close();
    await closeServer(fake);
  });

  test("end-user, x-request-id and tracing headers reach reviews; other headers do not", async () => {
    seen.length = 0;
    status = 200;
    await request({
      port,
      path: "/productpage",
      headers: { "end-user": "jason", "x-request-id": "r-1", "x-b3-traceid": "t-1", "x-secret": "no" },
    });
    const toReviews = seen.filter((h) => h["end-user"] !== undefined);
    assert.equal(toReviews.length, 2, "details and reviews both get end-user");
    for (const h of toReviews) {
      assert.equal(h["end-user"], "jason");
      assert.equal(h["x-request-id"], "r-1");
      assert.equal(h["x-b3-traceid"], "t-1");
      assert.equal(h["x-secret"], undefined);
    }
  });

  test("the signed-in user (cookie set by /login) becomes end-user", async () => {
    const login = await request({
      port,
      path: "/login",
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "username=jason&passwd=x",
    });
    assert.equal(login.status, 302);
    const cookie = String(login.headers["set-cookie"]?.[0]).split(";")[0]!;
    assert.equal(cookie, "user=jason");
    seen.length = 0;
    const answer = await request({ port, path: "/productpage", headers: { cookie } });
    assert.match(answer.body, /jason/);
    assert.ok(seen.every((h) => h["end-user"] === "jason"));
  });

  test("a failing reviews is tried twice, then the page says reviews are unavailable", async () => {
    seen.length = 0;
    status = 503;
    const answer = await request({ port, path: "/productpage" });
    status = 200;
    assert.equal(answer.status, 200);
    assert.match(answer.body, /Error fetching product reviews!/);
    assert.match(answer.body, /Sorry, product reviews are currently unavailable for this book\./);
    assert.equal(seen.length, 3, "one call to details, two to reviews");
    const api = await request({ port, path: "/api/v1/products/0/reviews" });
    assert.equal(api.status, 200);
  });
});
