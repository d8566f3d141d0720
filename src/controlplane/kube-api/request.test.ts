import assert from "node:assert/strict";
import { test } from "node:test";
import { queryBool } from "./request.js";

test("boolean query parameters read as Go's ParseBool reads them (the Python client sends watch=True)", () => {
  const at = (q: string) => new URL(`https://x/api/v1/pods?${q}`);
  for (const yes of ["watch=true", "watch=True", "watch=1", "watch=t", "watch=TRUE"])
    assert.equal(queryBool(at(yes), "watch"), true, yes);
  for (const no of ["watch=false", "watch=False", "watch=0", "", "watch=yes"])
    assert.equal(queryBool(at(no), "watch"), false, no);
});
