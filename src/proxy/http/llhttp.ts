// Node's own llhttp parser (the HTTPParser its http module runs), used directly: a request or response
// head is parsed once into a raw header list, body bytes come out as slices of what was read. Strict
// mode (no lenient flags): requests Node's server would reject are rejected here too.
import { createRequire } from "node:module";

export interface ParseError extends Error {
  code?: string;
  reason?: string;
  bytesParsed?: number;
}

export interface LlhttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  /** Bytes consumed, or the parse error. */
  execute(data: Buffer): number | ParseError;
  /** Signals the end of input (a response framed by the close completes). */
  finish(): number | ParseError | undefined;
  close(): void;
  [callback: number]: unknown;
}

interface HTTPParserClass {
  new (): LlhttpParser;
  REQUEST: number;
  RESPONSE: number;
  kOnMessageBegin: number;
  kOnHeaders: number;
  kOnHeadersComplete: number;
  kOnBody: number;
  kOnMessageComplete: number;
}

const common = createRequire(import.meta.url)("_http_common") as {
  HTTPParser: HTTPParserClass;
  methods: string[];
};

export const HTTPParser = common.HTTPParser;
/** Method names by llhttp's method index. */
export const METHODS: readonly string[] = common.methods;

/** llhttp's head callback: (major, minor, headers | undefined, method index, url | undefined, status,
 *  reason, upgrade, keep-alive); returning 1 tells it the message has no body (a response to HEAD). */
export type OnHeadersComplete = (
  major: number,
  minor: number,
  headers: string[] | undefined,
  method: number,
  url: string | undefined,
  status: number,
  reason: string | undefined,
  upgrade: boolean,
  keepAlive: boolean,
) => number;
