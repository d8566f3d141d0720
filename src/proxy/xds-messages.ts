// The proxy's checks of what the control plane sends on the discovery service (a config message, a
// certificate reply), in the contract's small schema language: the same shapes the shared protocol
// module defines, without loading a validation library into every sidecar.
import * as s from "./config-schema.js";
import type { CertificateReply, Checked, ServerMessage } from "../xds-protocol/messages.js";

const configMessage = s.object({ type: s.literal("config"), version: s.string(), config: s.unknown() });
const certificateReply = s.object({ chainPem: s.string(), rootsPem: s.string() });

function check<T>(schema: s.Schema<T>, input: unknown, what: string): Checked<T> {
  const errors: string[] = [];
  const value = schema.read(input, "", errors);
  return errors.length === 0
    ? { ok: true, value }
    : { ok: false, error: `malformed ${what}: ${errors.join("; ")}` };
}

export const checkServerMessage = (m: unknown): Checked<ServerMessage> =>
  check(configMessage, m, "server message");

export function checkCertificateReply(m: unknown): Checked<CertificateReply> {
  const r = check(certificateReply, m, "certificate reply");
  if (r.ok && (r.value.chainPem === "" || r.value.rootsPem === ""))
    return { ok: false, error: "malformed certificate reply: chainPem and rootsPem must not be empty" };
  return r;
}
