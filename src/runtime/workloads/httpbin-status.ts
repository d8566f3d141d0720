// httpbin's /status/CODES: the chosen code (one, or a weighted random pick from `200:0.7,500:0.3`) with
// the extras httpbin sends for some of them, e.g. the teapot for 418.
import type http from "node:http";

import { send, sendText } from "./http-util.js";

/** httpbin's 418 body, byte for byte. */
export const TEAPOT = `
    -=[ teapot ]=-

       _...._
     .'  _ _ \`.
    | ."\` ^ \`". _,
    \\_;\`"---"\`|//
      |       ;/
      \\_     _/
        \`"""\`
`;

const REDIRECT_CODES = new Set([301, 302, 303, 305, 307]);

/** Parses `CODES` (200–599); undefined when any part is not a status code or weight. */
export function parseStatusCodes(text: string): { code: number; weight: number }[] | undefined {
  const choices: { code: number; weight: number }[] = [];
  for (const part of text.split(",")) {
    const [codeText = "", weightText] = part.split(":");
    const code = Number(codeText);
    const weight = weightText === undefined ? 1 : Number(weightText);
    if (!/^\d{3}$/.test(codeText) || code < 200 || code > 599) return undefined;
    if (!Number.isFinite(weight) || weight < 0) return undefined;
    choices.push({ code, weight });
  }
  return choices.length > 0 ? choices : undefined;
}

/** A weighted pick (`random` in [0, 1)); the last choice when every weight is zero. */
export function chooseStatus(choices: { code: number; weight: number }[], random = Math.random()): number {
  const total = choices.reduce((sum, c) => sum + c.weight, 0);
  let point = random * total;
  for (const choice of choices) {
    if (point < choice.weight) return choice.code;
    point -= choice.weight;
  }
  return choices[choices.length - 1]!.code;
}

export function sendStatus(res: http.ServerResponse, codesText: string): void {
  const choices = parseStatusCodes(codesText);
  if (choices === undefined) {
    sendText(res, 400, "Invalid status code\n");
    return;
  }
  const code = chooseStatus(choices);
  if (code === 418) {
    send(res, 418, TEAPOT, "text/plain; charset=utf-8", {
      "X-More-Info": "http://tools.ietf.org/html/rfc2324",
    });
  } else if (REDIRECT_CODES.has(code)) {
    send(res, code, "", "text/html; charset=utf-8", { Location: "/redirect/1" });
  } else if (code === 401) {
    send(res, 401, "", "text/html; charset=utf-8", { "WWW-Authenticate": 'Basic realm="Fake Realm"' });
  } else if (code === 407) {
    send(res, 407, "", "text/html; charset=utf-8", { "Proxy-Authenticate": 'Basic realm="Fake Realm"' });
  } else if (code === 204 || code === 304) {
    res.writeHead(code);
    res.end();
  } else {
    send(res, code, "", "text/html; charset=utf-8");
  }
}
