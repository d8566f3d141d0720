// The mesh discovery protocol's messages, shared by the push server and the proxy's client. Everything
// arriving from the wire is `unknown` until one of the parsers here has checked its shape.
import { z } from "zod";

/** Who a proxy says it is in its hello; the bootstrap token must vouch for the pod and namespace. */
export const helloNodeSchema = z.strictObject({
  id: z.string().min(1).max(512),
  podName: z.string().min(1).max(253),
  namespace: z.string().min(1).max(63),
});
export type HelloNode = z.infer<typeof helloNodeSchema>;

const helloSchema = z.strictObject({
  type: z.literal("hello"),
  token: z.string().min(1),
  node: helloNodeSchema,
});
const ackSchema = z.strictObject({ type: z.literal("ack"), version: z.string() });
const nackSchema = z.strictObject({
  type: z.literal("nack"),
  version: z.string(),
  errors: z.array(z.string()).max(1000),
});

/** Proxy → server: hello first, then one ack or nack per config received. */
export const proxyMessageSchema = z.discriminatedUnion("type", [helloSchema, ackSchema, nackSchema]);
export type ProxyMessage = z.infer<typeof proxyMessageSchema>;
export type HelloMessage = z.infer<typeof helloSchema>;

/** Server → proxy: a whole ProxyConfig (state of the world), checked by the proxy with parseProxyConfig. */
export interface ConfigMessage {
  type: "config";
  version: string;
  config: unknown;
}
const configSchema = z.strictObject({ type: z.literal("config"), version: z.string(), config: z.unknown() });
export type ServerMessage = ConfigMessage;

/** Certificate RPC: a CSR signed for the identity the bootstrap token vouches for. */
export const certificateRequestSchema = z.strictObject({
  token: z.string().min(1),
  csrPem: z.string().min(1),
});
export type CertificateRequest = z.infer<typeof certificateRequestSchema>;
const certificateReplySchema = z.strictObject({ chainPem: z.string().min(1), rootsPem: z.string().min(1) });
export type CertificateReply = z.infer<typeof certificateReplySchema>;

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

function check<T>(schema: z.ZodType<T>, input: unknown, what: string): Checked<T> {
  const r = schema.safeParse(input);
  if (r.success) return { ok: true, value: r.data };
  const issues = r.error.issues.map((i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`);
  return { ok: false, error: `malformed ${what}: ${issues.join("; ")}` };
}

export const parseProxyMessage = (m: unknown): Checked<ProxyMessage> =>
  check(proxyMessageSchema, m, "proxy message");
export const parseServerMessage = (m: unknown): Checked<ServerMessage> =>
  check(configSchema, m, "server message") as Checked<ServerMessage>;
export const parseCertificateRequest = (m: unknown): Checked<CertificateRequest> =>
  check(certificateRequestSchema, m, "certificate request");
export const parseCertificateReply = (m: unknown): Checked<CertificateReply> =>
  check(certificateReplySchema, m, "certificate reply");
