// The few protobuf bodies kubectl's typed commands send (`kubectl create namespace|configmap|secret|
// serviceaccount` use Kubernetes' protobuf encoding): the `k8s\0` envelope and these kinds' fields,
// decoded to the same JSON object the other clients send. Any other kind is refused with 415.
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
const str = (fs: Field[], no: number) => {
  const b = bytesOf(fs, no).pop();
  return b === undefined ? undefined : b.toString("utf8");
};
const num = (fs: Field[], no: number) => {
  const f = fs.filter((x) => x.no === no && x.wire === 0).pop();
  return f === undefined ? undefined : Number(f.value as bigint);
};

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

const KINDS: Record<string, (fs: Field[]) => Record<string, unknown>> = {
  Namespace: (fs) => {
    const spec = bytesOf(fs, 2).pop();
    const finalizers = spec ? bytesOf(decodeFields(spec), 1).map((b) => b.toString("utf8")) : [];
    return finalizers.length ? { spec: { finalizers } } : {};
  },
  ConfigMap: (fs) => defined({ data: map(fs, 2), binaryData: map(fs, 3, true) }),
  Secret: (fs) => defined({ data: map(fs, 2, true), type: str(fs, 3), stringData: map(fs, 4) }),
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
