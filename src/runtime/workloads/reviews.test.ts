import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, test } from "node:test";

import { startHttpServer } from "./http-util.js";
import { silentLogger } from "./log.js";
import { ratingsHandler } from "./ratings.js";
import { reviewsDocument, reviewsHandler, reviewsOptions, type ReviewsOptions } from "./reviews.js";
import { closeServer, listen, type Running } from "./server.js";
import { request } from "./test-client.js";

test("each image version bakes its ratings switch, star color and ratings timeout; env overrides", () => {
  const v1 = reviewsOptions(["--version", "v1"], { HOSTNAME: "reviews-v1-x" });
  assert.equal(v1.enableRatings, false);
  assert.equal(v1.podName, "reviews-v1-x");
  const v2 = reviewsOptions(["--version", "v2"], {});
  assert.deepEqual([v2.enableRatings, v2.starColor, v2.ratingsTimeoutMs], [true, "black", 10_000]);
  const v3 = reviewsOptions(["--version", "v3"], { SERVICES_DOMAIN: "ns.svc.cluster.local" });
  assert.deepEqual([v3.enableRatings, v3.starColor, v3.ratingsTimeoutMs], [true, "red", 2_500]);
  assert.equal(v3.ratingsHost, "ratings.ns.svc.cluster.local");
  assert.equal(v3.ratingsPort, 9080);
  const custom = reviewsOptions(["--version", "v1"], { ENABLE_RATINGS: "true", STAR_COLOR: "blue" });
  assert.deepEqual([custom.enableRatings, custom.starColor], [true, "blue"]);
});

test("the document: id as a string, podname, a rating per review only when ratings are on", () => {
  const base: ReviewsOptions = { ...reviewsOptions(["--version", "v2"], { HOSTNAME: "p" }) };
  const doc = reviewsDocument(0, base, { Reviewer1: 5, Reviewer2: 4 }) as {
    id: string;
    podname: string;
    reviews: { reviewer: string; rating?: unknown }[];
  };
  assert.equal(doc.id, "0");
  assert.equal(doc.podname, "p");
  assert.deepEqual(
    doc.reviews.map((r) => [r.reviewer, r.rating]),
    [
      ["Reviewer1", { stars: 5, color: "black" }],
      ["Reviewer2", { stars: 4, color: "black" }],
    ],
  );
  const down = reviewsDocument(0, base, undefined) as { reviews: { rating?: unknown }[] };
  assert.deepEqual(down.reviews[0]!.rating, { error: "Ratings service is currently unavailable" });
  const v1 = reviewsDocument(0, { ...base, enableRatings: false }, undefined) as { reviews: object[] };
  assert.ok(v1.reviews.every((r) => !("rating" in r)));
});

describe("reviews v3 calling ratings on loopback", () => {
  let ratings: Running;
  let fake: http.Server;
  let fakePort: number;
  const servers: Running[] = [];
  const seen: http.IncomingHttpHeaders[] = [];
  const reviewsOn = async (port: number) => {
    const options = reviewsOptions(["--version", "v3"], {
      RATINGS_HOSTNAME: "127.0.0.1",
      RATINGS_SERVICE_PORT: String(port),
    });
    const server = await startHttpServer(reviewsHandler(options), 0, "127.0.0.1", silentLogger);
    servers.push(server);
    return server.ports[0]!;
  };
  before(async () => {
    ratings = await startHttpServer(ratingsHandler(), 0, "127.0.0.1", silentLogger);
    fake = http.createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(503).end("no healthy upstream");
    });
    fakePort = await listen(fake, 0, "127.0.0.1");
  });
  after(async () => {
    for (const s of servers) await s.close();
    await ratings.close();
    await closeServer(fake);
  });

  test("GET /reviews/0 carries red stars from ratings", async () => {
    const port = await reviewsOn(ratings.ports[0]!);
    const answer = await request({ port, path: "/reviews/0" });
    assert.equal(answer.status, 200);
    const doc = JSON.parse(answer.body) as { reviews: { rating: unknown }[] };
    assert.deepEqual(doc.reviews[0]!.rating, { stars: 5, color: "red" });
    assert.deepEqual(doc.reviews[1]!.rating, { stars: 4, color: "red" });
    assert.equal((await request({ port, path: "/health" })).status, 200);
    assert.equal((await request({ port, path: "/reviews/x" })).status, 404);
  });

  test("ratings failing: each review says the ratings service is unavailable; headers passed on", async () => {
    const port = await reviewsOn(fakePort);
    const answer = await request({
      port,
      path: "/reviews/0",
      headers: { "end-user": "jason", "x-request-id": "r" },
    });
    assert.equal(answer.status, 200);
    const doc = JSON.parse(answer.body) as { reviews: { rating: unknown }[] };
    for (const review of doc.reviews) {
      assert.deepEqual(review.rating, { error: "Ratings service is currently unavailable" });
    }
    assert.equal(seen.at(-1)?.["end-user"], "jason");
    assert.equal(seen.at(-1)?.["x-request-id"], "r");
  });
});
