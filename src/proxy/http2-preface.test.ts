// The HTTP/2 preface check: a whole preface, a prefix of one, and HTTP/1.1 request lines.
import assert from "node:assert/strict";
import { test } from "node:test";
import { prefaceMatch } from "./http2-preface.js";

test("the client preface is recognized whole, and a prefix of it waits for more", () => {
  const preface = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
  assert.equal(prefaceMatch(preface), "complete");
  assert.equal(prefaceMatch(Buffer.concat([preface, Buffer.from([0, 0, 6, 4])])), "complete");
  assert.equal(prefaceMatch(preface.subarray(0, 3)), "partial");
  assert.equal(prefaceMatch(Buffer.alloc(0)), "partial");
});

test("HTTP/1.x request lines are not HTTP/2", () => {
  assert.equal(prefaceMatch(Buffer.from("GET / HTTP/1.1\r\n")), "no");
  assert.equal(prefaceMatch(Buffer.from("PRIVATE / HTTP/1.1\r\n")), "no");
  assert.equal(prefaceMatch(Buffer.from("PRI * HTTP/1.1\r\n")), "no");
});
