import assert from "node:assert/strict";
import http from "node:http";
import { after, before, describe, test } from "node:test";

import { startHttpServer } from "./http-util.js";
import { httpbinHandler, parseHttpbinArgs } from "./httpbin.js";
import { TEAPOT } from "./httpbin-status.js";
import { silentLogger } from "./log.js";
import type { Running } from "./server.js";
import { request } from "./test-client.js";

test("port: explicit argument, then env PORT, then the image's default", () => {
  const cases: [string[], Record<string, string>, number, "go" | "python"][] = [
    [["--default-port", "8080", "--flavor", "go"], {}, 8080, "go"],
    [["--default-port", "80", "--flavor", "python"], {}, 80, "python"],
    [["--default-port", "80"], { PORT: "9999" }, 9999, "go"],
    [["--default-port", "8080", "-port", "8000"], { PORT: "9999" }, 8000, "go"],
    [["--default-port", "8080", "-port=8001"], {}, 8001, "go"],
    [["--default-port", "80", "gunicorn", "-b", "0.0.0.0:8002", "httpbin:app"], {}, 8002, "go"],
    [["8003"], {}, 8003, "go"],
    [[], {}, 8080, "go"],
  ];
  for (const [args, env, port, flavor] of cases) {
    assert.deepEqual(parseHttpbinArgs(args, env), { port, flavor }, args.join(" "));
  }
  assert.throws(() => parseHttpbinArgs(["-port", "x"], {}), /httpbin: "x" is not a port/);
});

describe("httpbin (go flavor)", () => {
  let server: Running;
  let port: number;
  before(async () => {
    server = await startHttpServer(httpbinHandler("go"), 0, "127.0.0.1", silentLogger);
    port = server.ports[0]!;
  });
  after(() => server.close());

  test("/ip answers the caller's address", async () => {
    const answer = await request({ port, path: "/ip" });
    assert.equal(answer.status, 200);
    assert.match(String(answer.headers["content-type"]), /^application\/json/);
    assert.deepEqual(JSON.parse(answer.body), { origin: "127.0.0.1" });
  });

  test("/ip and /get name X-Forwarded-For's first address as the origin when the header is there", async () => {
    const headers = { "x-forwarded-for": " 198.51.100.7 , 10.0.0.1" };
    const ip = await request({ port, path: "/ip", headers });
    assert.deepEqual(JSON.parse(ip.body), { origin: "198.51.100.7" });
    const get = await request({ port, path: "/get", headers });
    assert.equal(JSON.parse(get.body).origin, "198.51.100.7");
    const empty = await request({ port, path: "/ip", headers: { "x-forwarded-for": "" } });
    assert.deepEqual(JSON.parse(empty.body), { origin: "127.0.0.1" }, "an empty header: the peer");
  });

  test("/headers prints header names canonical-cased", async () => {
    const answer = await request({
      port,
      path: "/headers",
      headers: { "x-request-id": "abc", "USER-AGENT": "t" },
    });
    const { headers } = JSON.parse(answer.body);
    assert.deepEqual(headers["X-Request-Id"], ["abc"]);
    assert.deepEqual(headers["User-Agent"], ["t"]);
    assert.deepEqual(headers["Host"], [`127.0.0.1:${port}`]);
  });

  test("/get answers args, headers, method, origin and url; other methods get 405", async () => {
    const answer = await request({ port, path: "/get?a=1&a=2&b=x" });
    const body = JSON.parse(answer.body);
    assert.deepEqual(body.args, { a: ["1", "2"], b: ["x"] });
    assert.equal(body.origin, "127.0.0.1");
    assert.equal(body.method, "GET");
    assert.equal(body.url, `http://127.0.0.1:${port}/get?a=1&a=2&b=x`);
    const post = await request({ port, path: "/get", method: "POST", body: "x" });
    assert.equal(post.status, 405);
    assert.equal(post.headers["allow"], "GET, HEAD, OPTIONS");
  });

  test("/status/418 is the teapot; other codes come back as asked", async () => {
    const teapot = await request({ port, path: "/status/418" });
    assert.equal(teapot.status, 418);
    assert.equal(teapot.body, TEAPOT);
    assert.ok(teapot.body.includes("-=[ teapot ]=-"));
    assert.equal((await request({ port, path: "/status/503", method: "POST" })).status, 503);
    assert.equal((await request({ port, path: "/status/302" })).headers["location"], "/redirect/1");
    assert.equal((await request({ port, path: "/status/200:0,201:1" })).status, 201);
    assert.equal((await request({ port, path: "/status/abc" })).status, 400);
  });

  test("/anything echoes method, args, headers, data and json for any method and subpath", async () => {
    const answer = await request({
      port,
      path: "/anything/deep/path?q=1",
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: '{"k":[1,2]}',
    });
    const body = JSON.parse(answer.body);
    assert.equal(body.method, "PUT");
    assert.deepEqual(body.args, { q: ["1"] });
    assert.equal(body.data, '{"k":[1,2]}');
    assert.deepEqual(body.json, { k: [1, 2] });
    assert.equal(body.origin, "127.0.0.1");
    assert.equal(body.url, `http://127.0.0.1:${port}/anything/deep/path?q=1`);
    assert.deepEqual(body.headers["Content-Type"], ["application/json"]);
  });

  test("/post takes only POST and parses forms", async () => {
    const answer = await request({
      port,
      path: "/post",
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "a=1&b=2",
    });
    assert.equal(answer.status, 200);
    assert.deepEqual(JSON.parse(answer.body).form, { a: ["1"], b: ["2"] });
    assert.equal((await request({ port, path: "/post" })).status, 405);
  });

  test("/ is a page, unknown paths are 404, HEAD has no body", async () => {
    const index = await request({ port, path: "/" });
    assert.equal(index.status, 200);
    assert.match(index.body, /<h1>httpbin<\/h1>/);
    assert.equal((await request({ port, path: "/nope" })).status, 404);
    const head = await request({ port, path: "/get", method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.body, "");
  });

  test("HTTP/1.1 keep-alive: one connection serves several requests", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await request({ port, path: "/ip", agent });
      const second = await request({ port, path: "/headers", agent });
      assert.equal(first.status, 200);
      assert.equal(second.status, 200);
      assert.equal(first.localPort, second.localPort);
    } finally {
      agent.destroy();
    }
  });
});

describe("httpbin (python flavor)", () => {
  let server: Running;
  let port: number;
  before(async () => {
    server = await startHttpServer(httpbinHandler("python"), 0, "127.0.0.1", silentLogger);
    port = server.ports[0]!;
  });
  after(() => server.close());

  test("header values are strings and single query values are not lists", async () => {
    const answer = await request({ port, path: "/get?a=1&b=2&b=3", headers: { "x-b3-sampled": "1" } });
    const body = JSON.parse(answer.body);
    assert.equal(body.headers["X-B3-Sampled"], "1");
    assert.deepEqual(body.args, { a: "1", b: ["2", "3"] });
    assert.equal(body.method, undefined);
  });

  test("/ip answers X-Forwarded-For as sent, else the caller's address", async () => {
    const forwarded = await request({
      port,
      path: "/ip",
      headers: { "x-forwarded-for": "198.51.100.7, 10.0.0.1" },
    });
    assert.deepEqual(JSON.parse(forwarded.body), { origin: "198.51.100.7, 10.0.0.1" });
    const direct = await request({ port, path: "/ip" });
    assert.deepEqual(JSON.parse(direct.body), { origin: "127.0.0.1" });
  });
});
