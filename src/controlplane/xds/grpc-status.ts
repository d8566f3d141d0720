// Turns a ShoalError into the gRPC status a proxy receives: a status code chosen from the error's code,
// the message as details, and the stable code itself in a trailer (ERROR_CODE_METADATA).
import * as grpc from "@grpc/grpc-js";
import { ShoalError } from "../../api/errors.js";
import { ERROR_CODE_METADATA } from "../../xds-protocol/service.js";

export interface StatusError {
  code: grpc.status;
  details: string;
  metadata: grpc.Metadata;
}

function statusFor(code: string): grpc.status {
  if (code.startsWith("CA_TOKEN_") || code === "XDS_UNAUTHENTICATED") return grpc.status.UNAUTHENTICATED;
  if (code === "XDS_NODE_MISMATCH") return grpc.status.PERMISSION_DENIED;
  if (code.startsWith("CA_CSR_") || code === "XDS_BAD_MESSAGE") return grpc.status.INVALID_ARGUMENT;
  if (code === "XDS_HELLO_TIMEOUT") return grpc.status.DEADLINE_EXCEEDED;
  if (code === "XDS_SHUTTING_DOWN" || code === "XDS_REPLACED") return grpc.status.UNAVAILABLE;
  return grpc.status.INTERNAL;
}

/** The status for `err`; anything that is not a ShoalError is an internal error without details. */
export function statusError(err: unknown): StatusError {
  const e =
    err instanceof ShoalError ? err : new ShoalError("XDS_INTERNAL", "internal error in the control plane");
  const metadata = new grpc.Metadata();
  metadata.set(ERROR_CODE_METADATA, e.code);
  return { code: statusFor(e.code), details: e.message, metadata };
}
