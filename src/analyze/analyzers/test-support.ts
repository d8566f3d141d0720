// Test helper for analyzers: analyze YAML text and keep the messages with one code, formatted.
import { parseManifests } from "../../api/load.js";
import { analyzeDocuments } from "../analyze.js";
import { formatMessage } from "../message.js";

/** `Level [CODE] (Kind ns/name) text` for every message with `code`, without the file origin. */
export function messagesWith(code: string, yaml: string): string[] {
  const loaded = parseManifests(yaml, "in.yaml");
  return analyzeDocuments(loaded.documents, loaded.errors)
    .messages.filter((m) => m.code === code)
    .map((m) => formatMessage({ ...m, origin: undefined }));
}
