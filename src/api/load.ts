// Turns manifest text (multi-document YAML, JSON, `kind: List`) into raw objects that remember where each
// field came from, so validation can point at the YAML line. Parsing only: no schema checks here.
import { LineCounter, isCollection, isMap, isNode, isPair, isScalar, isSeq, parseAllDocuments } from "yaml";
import type { Document, Node } from "yaml";
import type { Diagnostic } from "./diagnostic.js";

/** Documents bigger than this are refused before parsing (a manifest is never this large). */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;
/** Nesting deeper than this is refused (no Istio or Kubernetes resource comes close). */
export const MAX_DEPTH = 64;

export interface LoadedDocument {
  /** The parsed object (plain JSON data). */
  object: unknown;
  /** File name, or `-` for stdin. */
  source: string;
  /** 1-based line of the value at `path` (or of its nearest existing parent). */
  lineOf(path: ReadonlyArray<string | number>): number | undefined;
}

export interface LoadResult {
  documents: LoadedDocument[];
  /** Parse errors: not a resource yet, so they name the source and line only. */
  errors: Diagnostic[];
}

function parseError(source: string, message: string, line?: number): Diagnostic {
  return {
    severity: "error",
    code: "IST0106",
    resource: { kind: "Document", name: source },
    path: "",
    message,
    source,
    line,
  };
}

function nodeAt(root: Node | null, path: ReadonlyArray<string | number>): Node | null {
  let node: Node | null = root;
  let best: Node | null = root;
  for (const key of path) {
    if (!node || !isCollection(node)) break;
    let next: unknown;
    if (isSeq(node) && typeof key === "number") next = node.items[key];
    else if (isMap(node)) {
      const pair = node.items.find(
        (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(key),
      );
      next = pair?.value ?? pair?.key;
    }
    if (!isNode(next)) break;
    node = next;
    best = next;
  }
  return best;
}

function depthOf(value: unknown, limit: number): number {
  // Iterative so a hostile document cannot overflow the stack.
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (d > max) max = d;
    if (max > limit) return max;
    if (v && typeof v === "object") for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

/**
 * Parses manifest text. Every document becomes one LoadedDocument; a `kind: List` becomes one per item.
 * Empty documents (`---` alone, comments) are skipped.
 */
export function parseManifests(text: string, source = "-"): LoadResult {
  const documents: LoadedDocument[] = [];
  const errors: Diagnostic[] = [];
  if (Buffer.byteLength(text) > MAX_MANIFEST_BYTES) {
    errors.push(parseError(source, `input is larger than ${MAX_MANIFEST_BYTES / 1024 / 1024} MiB`));
    return { documents, errors };
  }
  if (text.includes("\u0000")) {
    errors.push(parseError(source, "input is binary (contains NUL bytes), not YAML or JSON"));
    return { documents, errors };
  }
  const lineCounter = new LineCounter();
  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  } catch (err) {
    errors.push(parseError(source, `cannot parse: ${(err as Error).message}`));
    return { documents, errors };
  }
  if (!Array.isArray(docs)) docs = [];
  const lineAt = (offset: number | undefined) =>
    offset === undefined ? undefined : lineCounter.linePos(offset).line;

  for (const doc of docs) {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const line = e.linePos?.[0]?.line ?? lineAt(e.pos[0]);
        errors.push(parseError(source, `invalid YAML: ${e.message.split("\n")[0]}`, line));
      }
      continue;
    }
    if (doc.contents === null) continue;
    const docLine = lineAt(doc.contents.range?.[0]);
    let object: unknown;
    try {
      object = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      errors.push(parseError(source, `invalid YAML: ${(err as Error).message}`, docLine));
      continue;
    }
    if (object === null || object === undefined) continue;
    if (depthOf(object, MAX_DEPTH) > MAX_DEPTH) {
      errors.push(parseError(source, `document is nested deeper than ${MAX_DEPTH} levels`, docLine));
      continue;
    }
    if (typeof object !== "object" || Array.isArray(object)) {
      const what = Array.isArray(object) ? "a list" : `a ${typeof object}`;
      errors.push(
        parseError(source, `document is ${what}, expected a resource (a mapping with kind)`, docLine),
      );
      continue;
    }
    const root = doc.contents as Node;
    const record = object as Record<string, unknown>;
    const lineOfIn =
      (prefix: ReadonlyArray<string | number>) =>
      (path: ReadonlyArray<string | number>): number | undefined => {
        const node = nodeAt(root, [...prefix, ...path]);
        return lineAt(node?.range?.[0]);
      };
    if (record["kind"] === "List" && Array.isArray(record["items"])) {
      record["items"].forEach((item, i) => {
        documents.push({ object: item, source, lineOf: lineOfIn(["items", i]) });
      });
      continue;
    }
    documents.push({ object, source, lineOf: lineOfIn([]) });
  }
  return { documents, errors };
}
