// The three patch forms kubectl sends: JSON Patch (RFC 6902), JSON Merge Patch (RFC 7386) and Kubernetes'
// strategic merge patch (lists of named things merge by their key; `$patch` and `$setElementOrder`
// directives). Pure functions on plain JSON data.
import { badRequest } from "./status.js";

type Json = unknown;
type JsonObject = Record<string, Json>;

const isObject = (v: Json): v is JsonObject => !!v && typeof v === "object" && !Array.isArray(v);

/** RFC 7386: objects merge recursively, null deletes, anything else replaces. */
export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function unescape(token: string): string {
  return token.replace(/~1/g, "/").replace(/~0/g, "~");
}

function pointer(path: string): string[] {
  if (path === "") return [];
  if (!path.startsWith("/")) throw badRequest(`json patch: path "${path}" does not start with /`);
  return path.slice(1).split("/").map(unescape);
}

function parentOf(doc: Json, tokens: string[], path: string): { parent: Json; key: string } {
  let cur = doc;
  for (const t of tokens.slice(0, -1)) {
    cur = Array.isArray(cur) ? cur[Number(t)] : isObject(cur) ? cur[t] : undefined;
    if (cur === undefined) throw badRequest(`json patch: path "${path}" does not exist`);
  }
  return { parent: cur, key: tokens[tokens.length - 1] ?? "" };
}

function getAt(doc: Json, path: string): Json {
  let cur = doc;
  for (const t of pointer(path)) {
    cur = Array.isArray(cur) ? cur[Number(t)] : isObject(cur) ? cur[t] : undefined;
    if (cur === undefined) throw badRequest(`json patch: path "${path}" does not exist`);
  }
  return cur;
}

function remove(doc: Json, path: string): Json {
  const { parent, key } = parentOf(doc, pointer(path), path);
  if (Array.isArray(parent)) {
    const i = Number(key);
    if (!Number.isInteger(i) || i < 0 || i >= parent.length)
      throw badRequest(`json patch: no element at "${path}"`);
    return parent.splice(i, 1)[0];
  }
  if (!isObject(parent) || !(key in parent)) throw badRequest(`json patch: path "${path}" does not exist`);
  const v = parent[key];
  delete parent[key];
  return v;
}

function add(doc: Json, path: string, value: Json): Json {
  const tokens = pointer(path);
  if (tokens.length === 0) return value;
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) {
    const i = key === "-" ? parent.length : Number(key);
    if (!Number.isInteger(i) || i < 0 || i > parent.length)
      throw badRequest(`json patch: bad index at "${path}"`);
    parent.splice(i, 0, value);
  } else if (isObject(parent)) parent[key] = value;
  else throw badRequest(`json patch: path "${path}" does not exist`);
  return doc;
}

/** RFC 6902 operations in order; any failing operation fails the whole patch. */
export function jsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw badRequest("json patch: the body must be a list of operations");
  let doc = structuredClone(target);
  for (const raw of ops) {
    const op = isObject(raw) ? raw : {};
    const path = String(op["path"] ?? "");
    switch (op["op"]) {
      case "add":
        doc = add(doc, path, structuredClone(op["value"]));
        break;
      case "remove":
        remove(doc, path);
        break;
      case "replace":
        remove(doc, path);
        doc = add(doc, path, structuredClone(op["value"]));
        break;
      case "move": {
        const v = remove(doc, String(op["from"] ?? ""));
        doc = add(doc, path, v);
        break;
      }
      case "copy":
        doc = add(doc, path, structuredClone(getAt(doc, String(op["from"] ?? ""))));
        break;
      case "test":
        if (JSON.stringify(getAt(doc, path)) !== JSON.stringify(op["value"]))
          throw badRequest(`json patch: test failed at "${path}"`);
        break;
      default:
        throw badRequest(`json patch: unknown operation ${JSON.stringify(op["op"])}`);
    }
  }
  return doc;
}

/** Merge keys of the lists Kubernetes' types declare `patchStrategy: merge` on. */
const MERGE_KEYS: Record<string, string[]> = {
  containers: ["name"],
  initContainers: ["name"],
  ephemeralContainers: ["name"],
  env: ["name"],
  volumes: ["name"],
  volumeMounts: ["mountPath"],
  imagePullSecrets: ["name"],
  hostAliases: ["ip"],
  conditions: ["type"],
  ownerReferences: ["uid"],
  // Container ports merge by containerPort, Service ports by port.
  ports: ["containerPort", "port"],
};

function keyOf(list: Json[], field: string, patchItems: Json[]): string | undefined {
  const keys = MERGE_KEYS[field];
  if (!keys) return undefined;
  return keys.find((k) => [...list, ...patchItems].every((x) => !isObject(x) || k in x));
}

function mergeList(field: string, target: Json[], patch: Json[]): Json[] {
  const key = keyOf(target, field, patch);
  if (!key)
    return patch.filter((p) => !(isObject(p) && p["$patch"] === "delete")).map((p) => structuredClone(p));
  if (patch.some((p) => isObject(p) && p["$patch"] === "replace"))
    return patch.filter((p) => !(isObject(p) && "$patch" in p)).map((p) => structuredClone(p));
  const out = target.map((t) => structuredClone(t));
  for (const p of patch) {
    if (!isObject(p)) continue;
    const i = out.findIndex((t) => isObject(t) && t[key] === p[key]);
    if (p["$patch"] === "delete") {
      if (i >= 0) out.splice(i, 1);
      continue;
    }
    if (i >= 0) out[i] = strategicMergePatch(out[i], p);
    else out.push(strategicMergePatch({}, p));
  }
  return out;
}

/** Kubernetes' strategic merge patch for the built-in kinds (kubectl apply / edit / label on them). */
export function strategicMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  if (patch["$patch"] === "replace") {
    const { $patch: _p, ...rest } = patch;
    return structuredClone(rest);
  }
  if (patch["$patch"] === "delete") return undefined;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === "$patch" || k === "$retainKeys" || k.startsWith("$setElementOrder/")) continue;
    if (k.startsWith("$deleteFromPrimitiveList/")) {
      const field = k.slice("$deleteFromPrimitiveList/".length);
      const drop = new Set((Array.isArray(v) ? v : []).map((x) => JSON.stringify(x)));
      if (Array.isArray(out[field]))
        out[field] = (out[field] as Json[]).filter((x) => !drop.has(JSON.stringify(x)));
      continue;
    }
    if (v === null) delete out[k];
    else if (Array.isArray(v)) out[k] = mergeList(k, Array.isArray(out[k]) ? (out[k] as Json[]) : [], v);
    else if (isObject(v)) {
      const merged = strategicMergePatch(out[k], v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else out[k] = v;
  }
  // `$retainKeys`: only the listed keys survive (a union's other members are cleared).
  if (Array.isArray(patch["$retainKeys"])) {
    const keep = new Set(patch["$retainKeys"] as string[]);
    for (const k of Object.keys(out)) if (!keep.has(k)) delete out[k];
  }
  return out;
}
