import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, test } from "node:test";

import { detailsHandler } from "./details.js";
import { startHttpServer } from "./http-util.js";
import { silentLogger } from "./log.js";
import { productpageHandler, productpageOptions, type ProductpageOptions } from "./productpage.js";
import { closeServer, listen, type Running } from "./server.js";
import { request } from "./test-client.js";

/** Options pointing details at `detailsPort` and reviews/ratings at a port nothing listens on. */
function optionsFor(detailsPort: number, timeoutMs = 3000): ProductpageOptions {
  return {
    detailsHost: "127.0.0.1",
    detailsPort,
    reviews: { host: "127.0.0.1", port: 1 },
    ratings: { host: "127.0.0.1", port: 1 },
    timeoutMs,
  };
}

test("service addresses from env: <SERVICE>_HOSTNAME, SERVICES_DOMAIN, <SERVICE>_SERVICE_PORT", () => {
  assert.deepEqual(productpageOptions({}), {
    detailsHost: "details",
    detailsPort: 9080,
    reviews: { host: "reviews", port: 9080 },
    ratings: { host: "ratings", port: 9080 },
    timeoutMs: 3000,
  });
  assert.deepEqual(
    productpageOptions({
      DETAILS_HOSTNAME: "d",
      SERVICES_DOMAIN: "ns.svc.cluster.local",
      DETAILS_SERVICE_PORT: "81",
      REVIEWS_SERVICE_PORT: "82",
    }),
    {
      detailsHost: "d.ns.svc.cluster.local",
      detailsPort: 81,
      reviews: { host: "reviews.ns.svc.cluster.local", port: 82 },
      ratings: { host: "ratings.ns.svc.cluster.local", port: 9080 },
      timeoutMs: 3000,
    },
  );
});

describe("bookinfo productpage with details up", () => {
  let details: Running;
  let page: Running;
  let port: number;
  before(async () => {
    details = await startHttpServer(detailsHandler(), 0, "127.0.0.1", silentLogger);
    page = await startHttpServer(
      productpageHandler(optionsFor(details.ports[0]!)),
      0,
      "127.0.0.1",
      silentLogger,
    );
    port = page.ports[0]!;
  });
  after(async () => {
    await page.close();
    await details.close();
  });

  test("/productpage renders the details fetched from the details service", async () => {
    const answer = await request({ port, path: "/productpage" });
    assert.equal(answer.status, 200);
    assert.match(answer.body, /The Comedy of Errors/);
    assert.match(answer.body, /William Shakespeare/);
    assert.match(answer.body, /123-1234567890/);
    // Nothing answers for reviews here: the page says so and still shows the details.
    assert.match(answer.body, /Error fetching product reviews!/);
    assert.match(answer.body, /Sorry, product reviews are currently unavailable for this book\./);
    assert.doesNotMatch(answer.body, /Error fetching product details!/);
  });

  test("/api/v1/products/0 is the details record as JSON; /health and 404s", async () => {
    const answer = await request({ port, path: "/api/v1/products/0" });
    assert.equal(answer.status, 200);
    assert.equal(JSON.parse(answer.body).author, "William Shakespeare");
    assert.equal(JSON.parse((await request({ port, path: "/api/v1/products" })).body)[0].id, 0);
    assert.equal((await request({ port, path: "/health" })).body, "Product page is healthy");
    assert.equal((await request({ port, path: "/nope" })).status, 404);
  });
});

describe("bookinfo productpage with details failing", () => {
  let fake: http.Server;
  let page: Running;
  let port: number;
  const seen: http.IncomingHttpHeaders[] = [];
  before(async () => {
    // A details service that denies everything, like an RBAC policy would.
    fake = http.createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(403, { "content-type": "text/plain" }).end("RBAC: access denied");
    });
    const detailsPort = await listen(fake, 0, "127.0.0.1");
    page = await startHttpServer(productpageHandler(optionsFor(detailsPort)), 0, "127.0.0.1", silentLogger);
    port = page.ports[0]!;
  });
  after(async () => {
    await page.close();
    await closeServer(fake);
  });

  test("the page still renders, with an error note; tracing headers are passed on", async () => {
    const answer = await request({
      port,
      path: "/productpage",
      headers: { "x-request-id": "rid-1", "x-other": "no" },
    });
    assert.equal(answer.status, 200);
    assert.match(answer.body, /Sorry, product details are currently unavailable for this book\./);
    assert.equal(seen[0]?.["x-request-id"], "rid-1");
    assert.equal(seen[0]?.["x-other"], undefined);
    assert.equal((await request({ port, path: "/api/v1/products/0" })).status, 403);
  });

  test("an unreachable details service is an error note too", async () => {
    const unreachable = await startHttpServer(
      productpageHandler(optionsFor(1, 1000)),
      0,
      "127.0.0.1",
      silentLogger,
    );
    try {
      const answer = await request({ port: unreachable.ports[0]!, path: "/productpage" });
      assert.equal(answer.status, 200);
      assert.match(answer.body, /Error fetching product details!/);
    } finally {
      await unreachable.close();
    }
  });
});
