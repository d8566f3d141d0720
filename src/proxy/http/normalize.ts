// Step: the config this request is judged by, its request id, and its path normalized once for every
// later step (authorization, routing, the upstream): `/a/../b` → `/b`, `%2e` → `.`. Both directions use
// the mesh's pathNormalization (inbound as compiled with the workload's policies).
import { DEFAULT_PATH_NORMALIZATION, normalizePath } from "../../policy/path.js";
import { httpAuthzIndex } from "../http-authz.js";
import { requestId } from "../http-headers.js";
import type { Exchange } from "./exchange.js";
import { localReply } from "./local-reply.js";

export function normalize(x: Exchange): boolean {
  const table = x.rt.table();
  x.table = table;
  x.entry.requestId = requestId(x.headers);
  const inbound = x.direction === "inbound";
  // A proxy without a config accepts nothing (fail closed).
  if (!table || !x.conn || (inbound && !x.conn.inbound))
    return localReply(x, 503, {
      flag: "NR",
      details: "no_config",
      body: inbound ? "no configuration" : "",
    });
  const raw = x.rawPath;
  const q = raw.search(/[?#]/);
  // meshConfig.pathNormalization applies to both directions (absent: BASE).
  const mode =
    (inbound ? httpAuthzIndex(table).pathNormalization : table.config.mesh.pathNormalization) ??
    DEFAULT_PATH_NORMALIZATION;
  x.normalizedAs = mode;
  x.path = normalizePath(raw, mode);
  x.query = q >= 0 ? raw.slice(q + 1) : "";
  x.pathWithQuery = q >= 0 ? x.path + raw.slice(q) : x.path;
  x.entry.path = x.pathWithQuery;
  return true;
}
