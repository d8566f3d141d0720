import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { bookDetails, detailsHandler } from "./details.js";
import { startHttpServer } from "./http-util.js";
import { silentLogger } from "./log.js";
import type { Running } from "./server.js";
import { request } from "./test-client.js";

describe("bookinfo details", () => {
  let server: Running;
  let port: number;
  before(async () => {
    server = await startHttpServer(detailsHandler(), 0, "127.0.0.1", silentLogger);
    port = server.ports[0]!;
  });
  after(() => server.close());

  test("GET /details/0 answers the book record", async () => {
    const answer = await request({ port, path: "/details/0" });
    assert.equal(answer.status, 200);
    assert.deepEqual(JSON.parse(answer.body), {
      id: 0,
      author: "William Shakespeare",
      year: 1595,
      type: "paperback",
      pages: 200,
      publisher: "PublisherA",
      language: "English",
      "ISBN-10": "1234567890",
      "ISBN-13": "123-1234567890",
    });
    assert.deepEqual(JSON.parse((await request({ port, path: "/details/7" })).body), bookDetails(7));
  });

  test("the body is compact JSON, the exact bytes bookinfo's details answers", async () => {
    const answer = await request({ port, path: "/details/0" });
    assert.equal(
      answer.body,
      '{"id":0,"author":"William Shakespeare","year":1595,"type":"paperback","pages":200,' +
        '"publisher":"PublisherA","language":"English","ISBN-10":"1234567890","ISBN-13":"123-1234567890"}',
    );
    assert.equal(answer.headers["content-type"], "application/json");
    assert.equal(answer.headers["content-length"], String(Buffer.byteLength(answer.body)));
  });

  test("/health, wrong methods, bad ids and unknown paths", async () => {
    assert.deepEqual(JSON.parse((await request({ port, path: "/health" })).body), {
      status: "Details is healthy",
    });
    const post = await request({ port, path: "/details/0", method: "POST", body: "{}" });
    assert.equal(post.status, 405);
    assert.equal((await request({ port, path: "/details/x" })).status, 400);
    assert.equal((await request({ port, path: "/ping" })).status, 404);
    assert.equal((await request({ port, path: "/details/0/extra" })).status, 404);
  });
});
