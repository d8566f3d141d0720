// The gRPC service both sides speak: `shoal.mesh.v1.MeshDiscovery` with a config stream and a unary
// certificate call, serialized as JSON (no proto files). Deserializers never throw: bytes that are not JSON
// become `undefined`, which every message parser rejects.
import * as grpc from "@grpc/grpc-js";

export const SERVICE_NAME = "shoal.mesh.v1.MeshDiscovery";
export const STREAM_CONFIG_PATH = `/${SERVICE_NAME}/StreamConfig`;
export const CERTIFICATE_PATH = `/${SERVICE_NAME}/Certificate`;

/** Trailer carrying a ShoalError's stable code next to the gRPC status, so the client can rebuild it. */
export const ERROR_CODE_METADATA = "shoal-error-code";

/** Largest message either side accepts (a config for a big mesh is a few MB at most). */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

const serialize = (m: unknown): Buffer => Buffer.from(JSON.stringify(m));
const deserialize = (b: Buffer): unknown => {
  try {
    return JSON.parse(b.toString("utf8"));
  } catch {
    return undefined;
  }
};

export const meshDiscoveryService = {
  StreamConfig: {
    path: STREAM_CONFIG_PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: serialize,
    requestDeserialize: deserialize,
    responseSerialize: serialize,
    responseDeserialize: deserialize,
  },
  Certificate: {
    path: CERTIFICATE_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: serialize,
    requestDeserialize: deserialize,
    responseSerialize: serialize,
    responseDeserialize: deserialize,
  },
} satisfies grpc.ServiceDefinition;

/** A client for the service; its methods take and return `unknown` (checked by the messages' parsers). */
export interface MeshDiscoveryClient extends grpc.Client {
  StreamConfig(options?: grpc.CallOptions): grpc.ClientDuplexStream<unknown, unknown>;
  Certificate(
    request: unknown,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: (err: grpc.ServiceError | null, reply?: unknown) => void,
  ): grpc.ClientUnaryCall;
}

const ClientConstructor = grpc.makeGenericClientConstructor(meshDiscoveryService, SERVICE_NAME);

/**
 * Opens a channel to `target` (`unix:/path/to.sock` or `host:port`). Reconnect backoff of the channel is
 * kept short so a restarted control plane is found again quickly; callers add their own backoff on top.
 */
export function createMeshDiscoveryClient(
  target: string,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  options: grpc.ChannelOptions = {},
): MeshDiscoveryClient {
  return new ClientConstructor(target, credentials, {
    "grpc.initial_reconnect_backoff_ms": 100,
    "grpc.max_reconnect_backoff_ms": 2000,
    "grpc.max_receive_message_length": MAX_MESSAGE_BYTES,
    "grpc.max_send_message_length": MAX_MESSAGE_BYTES,
    "grpc.keepalive_time_ms": 30_000,
    "grpc.keepalive_timeout_ms": 10_000,
    ...options,
  }) as unknown as MeshDiscoveryClient;
}
