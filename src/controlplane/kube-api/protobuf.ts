// The few protobuf bodies kubectl's typed commands send (`kubectl create namespace|configmap|secret|
// serviceaccount|deployment` use Kubernetes' protobuf encoding): the `k8s\0` envelope and these kinds'
// fields (field numbers from Kubernetes' generated.proto), decoded to the same JSON object the other
// clients send. Any other kind is refused with 415.
import { fail } from "./status.js";

type Field = { no: number; wire: number; value: bigint | Buffer };

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

function varint(buf: Buffer, pos: number): [bigint, number] {
  let out = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new Error("truncated varint");
    const b = buf[pos++]!;
    out |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [out, pos];
    shift += 7n;
    if (shift > 63n) throw new Error("varint too long");
  }
}

/** The fields of one message, in order (wire types 0, 1, 2 and 5). */
export function decodeFields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [tag, p] = varint(buf, pos);
    pos = p;
    const no = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (wire === 0) {
      const [v, q] = varint(buf, pos);
      pos = q;
      out.push({ no, wire, value: v });
    } else if (wire === 2) {
      const [len, q] = varint(buf, pos);
      const end = q + Number(len);
      if (end > buf.length) throw new Error("truncated field");
      out.push({ no, wire, value: buf.subarray(q, end) });
      pos = end;
    } else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      out.push({ no, wire, value: buf.subarray(pos, pos + n) });
      pos += n;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const bytesOf = (fs: Field[], no: number) =>
  fs.filter((f) => f.no === no && f.wire === 2).map((f) => f.value as Buffer);
/** Kubernetes encodes unset strings as empty ones; JSON leaves them out (`omitempty`), and so does this. */
const str = (fs: Field[], no: number) => {
  const b = bytesOf(fs, no).pop();
  return b === undefined || b.length === 0 ? undefined : b.toString("utf8");
};
const num = (fs: Field[], no: number) => {
  const f = fs.filter((x) => x.no === no && x.wire === 0).pop();
  return f === undefined ? undefined : Number(f.value as bigint);
};
/** A plain (not optional) number: always encoded, left out of JSON when 0. */
const count = (fs: Field[], no: number) => num(fs, no) || undefined;

function map(fs: Field[], no: number, asBase64 = false): Record<string, string> | undefined {
  const entries = bytesOf(fs, no);
  if (entries.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const e of entries) {
    const kv = decodeFields(e);
    const v = bytesOf(kv, 2).pop() ?? Buffer.alloc(0);
    out[str(kv, 1) ?? ""] = asBase64 ? v.toString("base64") : v.toString("utf8");
  }
  return out;
}

function defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function objectMeta(buf: Buffer | undefined): Record<string, unknown> {
  if (!buf) return {};
  const fs = decodeFields(buf);
  return defined({
    name: str(fs, 1),
    generateName: str(fs, 2),
    namespace: str(fs, 3),
    resourceVersion: str(fs, 6),
    labels: map(fs, 11),
    annotations: map(fs, 12),
  });
}

const strs = (fs: Field[], no: number) => bytesOf(fs, no).map((b) => b.toString("utf8"));
const message = (fs: Field[], no: number) => {
  const b = bytesOf(fs, no).pop();
  return b === undefined ? undefined : decodeFields(b);
};
const nonEmpty = <T>(xs: T[]) => (xs.length > 0 ? xs : undefined);

function labelSelector(fs: Field[] | undefined): Record<string, unknown> | undefined {
  if (!fs) return undefined;
  const expressions = bytesOf(fs, 2).map((b) => {
    const e = decodeFields(b);
    return defined({ key: str(e, 1), operator: str(e, 2), values: nonEmpty(strs(e, 3)) });
  });
  return defined({ matchLabels: map(fs, 1), matchExpressions: nonEmpty(expressions) });
}

function container(fs: Field[]): Record<string, unknown> {
  const ports = bytesOf(fs, 6).map((b) => {
    const p = decodeFields(b);
    return defined({ name: str(p, 1), hostPort: count(p, 2), containerPort: num(p, 3), protocol: str(p, 4) });
  });
  const env = bytesOf(fs, 7).map((b) => {
    const e = decodeFields(b);
    return defined({ name: str(e, 1), value: str(e, 2) });
  });
  return defined({
    name: str(fs, 1),
    image: str(fs, 2),
    command: nonEmpty(strs(fs, 3)),
    args: nonEmpty(strs(fs, 4)),
    workingDir: str(fs, 5),
    ports: nonEmpty(ports),
    env: nonEmpty(env),
    imagePullPolicy: str(fs, 14),
  });
}

function podSpec(fs: Field[] | undefined): Record<string, unknown> | undefined {
  if (!fs) return undefined;
  const containers = (no: number) => nonEmpty(bytesOf(fs, no).map((b) => container(decodeFields(b))));
  return defined({
    containers: containers(2) ?? [],
    restartPolicy: str(fs, 3),
    terminationGracePeriodSeconds: num(fs, 4),
    dnsPolicy: str(fs, 6),
    nodeSelector: map(fs, 7),
    serviceAccountName: str(fs, 8),
    initContainers: containers(20),
  });
}

function podTemplate(fs: Field[] | undefined): Record<string, unknown> | undefined {
  if (!fs) return undefined;
  return defined({ metadata: objectMeta(bytesOf(fs, 1).pop()), spec: podSpec(message(fs, 2)) });
}

const KINDS: Record<string, (fs: Field[]) => Record<string, unknown>> = {
  Namespace: (fs) => {
    const spec = bytesOf(fs, 2).pop();
    const finalizers = spec ? bytesOf(decodeFields(spec), 1).map((b) => b.toString("utf8")) : [];
    return finalizers.length ? { spec: { finalizers } } : {};
  },
  ConfigMap: (fs) => defined({ data: map(fs, 2), binaryData: map(fs, 3, true) }),
  Secret: (fs) => defined({ data: map(fs, 2, true), type: str(fs, 3), stringData: map(fs, 4) }),
  Deployment: (fs) => {
    const spec = message(fs, 2) ?? [];
    const strategy = message(spec, 4);
    return {
      spec: defined({
        replicas: num(spec, 1),
        selector: labelSelector(message(spec, 2)),
        template: podTemplate(message(spec, 3)),
        strategy: strategy && str(strategy, 1) ? { type: str(strategy, 1) } : undefined,
        minReadySeconds: count(spec, 5),
        revisionHistoryLimit: num(spec, 6),
        progressDeadlineSeconds: num(spec, 9),
      }),
    };
  },
  ServiceAccount: (fs) =>
    defined({ automountServiceAccountToken: num(fs, 4) === undefined ? undefined : num(fs, 4) === 1 }),
};

/** The JSON form of a protobuf-encoded object of a kind listed above; a 415 Status for anything else. */
export function decodeKubeProtobuf(body: Buffer): Record<string, unknown> {
  const unsupported = (why: string) =>
    fail(
      415,
      "UnsupportedMediaType",
      `the body of the request was in an unknown format (${why}) - accepted media types include: application/json`,
    );
  if (!body.subarray(0, 4).equals(MAGIC)) throw unsupported("no protobuf envelope");
  let envelope: Field[];
  try {
    envelope = decodeFields(body.subarray(4));
  } catch (err) {
    throw unsupported((err as Error).message);
  }
  const typeMeta = decodeFields(bytesOf(envelope, 1).pop() ?? Buffer.alloc(0));
  const apiVersion = str(typeMeta, 1) ?? "";
  const kind = str(typeMeta, 2) ?? "";
  const decode = KINDS[kind];
  if (!decode) throw unsupported(`protobuf for kind ${kind || "<none>"}`);
  try {
    const fs = decodeFields(bytesOf(envelope, 2).pop() ?? Buffer.alloc(0));
    return { apiVersion, kind, metadata: objectMeta(bytesOf(fs, 1).pop()), ...decode(fs) };
  } catch (err) {
    throw unsupported((err as Error).message);
  }
}
