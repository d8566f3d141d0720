import assert from "node:assert/strict";
import { test } from "node:test";
import type { AnyResource } from "../../api/meta.js";
import { paginate } from "./paging.js";
import { StatusError } from "./status.js";

const pod = (namespace: string, name: string): AnyResource => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { namespace, name },
});
const names = (items: AnyResource[]) => items.map((r) => `${r.metadata.namespace}/${r.metadata.name}`);

test("pages of `limit` items follow each other through continue tokens until the last", () => {
  const all = [pod("b", "x"), pod("a", "z"), pod("a", "y"), pod("b", "w"), pod("a", "x")];
  const seen: string[] = [];
  let token: string | null = null;
  let pages = 0;
  do {
    const page = paginate(all, 2, token);
    seen.push(...names(page.items));
    if (page.continue) assert.equal(page.remainingItemCount, all.length - seen.length);
    token = page.continue ?? null;
    pages++;
  } while (token);
  assert.equal(pages, 3);
  assert.deepEqual(seen, ["a/x", "a/y", "a/z", "b/w", "b/x"]);
});

test("no limit is the whole list; a malformed token is a 400", () => {
  const all = [pod("a", "b"), pod("a", "a")];
  assert.deepEqual(names(paginate(all, 0, null).items), ["a/a", "a/b"]);
  assert.equal(paginate(all, 5, null).continue, undefined);
  assert.throws(
    () => paginate(all, 1, "not-a-token"),
    (e) => e instanceof StatusError && e.status.code === 400,
  );
});
