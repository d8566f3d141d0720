import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { helloworldHandler, helloworldOptions } from "./helloworld.js";
import { startHttpServer } from "./http-util.js";
import { silentLogger } from "./log.js";
import { ratingsHandler } from "./ratings.js";
import type { Running } from "./server.js";
import { request } from "./test-client.js";

describe("bookinfo ratings", () => {
  let server: Running;
  let port: number;
  before(async () => {
    server = await startHttpServer(ratingsHandler(), 0, "127.0.0.1", silentLogger);
    port = server.ports[0]!;
  });
  after(() => server.close());

  test("GET /ratings/0 answers the reviewers' stars, compact, id a number", async () => {
    const answer = await request({ port, path: "/ratings/0" });
    assert.equal(answer.status, 200);
    assert.equal(answer.body, '{"id":0,"ratings":{"Reviewer1":5,"Reviewer2":4}}');
  });

  test("POST replaces a product's ratings; bad ids are 400; /health", async () => {
    const posted = await request({ port, path: "/ratings/3", method: "POST", body: '{"Reviewer1":1}' });
    assert.equal(posted.status, 200);
    assert.deepEqual(JSON.parse((await request({ port, path: "/ratings/3" })).body), {
      id: 3,
      ratings: { Reviewer1: 1 },
    });
    assert.equal((await request({ port, path: "/ratings/x" })).status, 400);
    assert.equal(JSON.parse((await request({ port, path: "/health" })).body).status, "Ratings is healthy");
  });
});

describe("helloworld", () => {
  test("GET /hello says the version and the pod", async () => {
    const options = helloworldOptions(["--version", "v2"], { HOSTNAME: "helloworld-v2-7d9f" });
    const server = await startHttpServer(helloworldHandler(options), 0, "127.0.0.1", silentLogger);
    try {
      const answer = await request({ port: server.ports[0]!, path: "/hello" });
      assert.equal(answer.status, 200);
      assert.equal(answer.body, "Hello version: v2, instance: helloworld-v2-7d9f\n");
      assert.equal((await request({ port: server.ports[0]!, path: "/nope" })).status, 404);
    } finally {
      await server.close();
    }
  });

  test("SERVICE_VERSION overrides the image's version", () => {
    assert.equal(helloworldOptions(["--version", "v1"], { SERVICE_VERSION: "v9" }).version, "v9");
    assert.equal(helloworldOptions([], {}).version, "v1");
  });
});
