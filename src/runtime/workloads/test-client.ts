// A small HTTP(S) client for the stand-ins' tests: one request, the whole answer as text.
import http from "node:http";
import https from "node:https";

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The client's local port, to tell whether a connection was reused. */
  localPort: number | undefined;
}

export interface RequestOptions extends https.RequestOptions {
  body?: string;
  tls?: boolean;
}

export function request(options: RequestOptions): Promise<Answer> {
  const { body, tls, ...rest } = options;
  const client = tls === true ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request({ host: "127.0.0.1", ...rest }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString("utf8"),
          localPort: res.socket?.localPort,
        }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}
