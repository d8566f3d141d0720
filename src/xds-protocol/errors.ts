// Rebuilds the ShoalError a gRPC status carries: the stable code from the ERROR_CODE_METADATA trailer
// when the server set one, else one named after the gRPC status (XDS_UNAVAILABLE, …).
import * as grpc from "@grpc/grpc-js";
import { ShoalError } from "../common/errors.js";
import { ERROR_CODE_METADATA } from "./service.js";

export function errorFromStatus(s: Partial<grpc.StatusObject>): ShoalError {
  const code = s.code ?? grpc.status.UNKNOWN;
  const fromServer = s.metadata?.get(ERROR_CODE_METADATA)[0];
  const name =
    typeof fromServer === "string" && fromServer ? fromServer : `XDS_${grpc.status[code] ?? "UNKNOWN"}`;
  return new ShoalError(name, s.details || `control plane call failed (${grpc.status[code] ?? code})`);
}
