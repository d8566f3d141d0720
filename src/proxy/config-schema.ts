// The small schema language the ProxyConfig contract is written in: each schema checks a value read from
// JSON, fills in defaults, and gives its TypeScript type. It exists so the proxy can check every config
// it receives without loading a general validation library (the contract is the proxy's only import
// from outside itself, and it must stay cheap to load).

export interface Schema<T> {
  /** Checks `v` at `path` and returns it with defaults filled in; every problem goes to `errors`. */
  read(v: unknown, path: string, errors: string[]): T;
  /** Absent (undefined) is allowed and stays absent. */
  optional(): Opt<T>;
  /** Absent becomes `value` (a fresh copy each time). */
  default(value: T): Schema<T>;
  /** `null` is allowed. */
  nullable(): Schema<T | null>;
  /** Checks and fills defaults; throws with every error when the value does not fit. */
  parse(v: unknown): T;
}

/** A schema whose property may be left out of an object. */
export interface Opt<T> extends Schema<T | undefined> {
  readonly isOptional: true;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends Opt<unknown> ? K : never }[keyof S];
type Flat<T> = { [K in keyof T]: T[K] } & {};
export type ObjectOf<S extends Shape> = Flat<
  { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & { [K in OptionalKeys<S>]?: Infer<S[K]> }
>;

const at = (path: string) => path || "(root)";
const describe = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);

function make<T>(read: (v: unknown, path: string, errors: string[]) => T): Schema<T> {
  const self: Schema<T> = {
    read,
    optional() {
      const o: Opt<T> = {
        ...make<T | undefined>((v, p, e) => (v === undefined ? undefined : read(v, p, e))),
        isOptional: true,
      };
      return o;
    },
    default(value: T) {
      const copy = JSON.stringify(value);
      return make<T>((v, p, e) => (v === undefined ? (JSON.parse(copy) as T) : read(v, p, e)));
    },
    nullable() {
      return make<T | null>((v, p, e) => (v === null ? null : read(v, p, e)));
    },
    parse(v: unknown) {
      const errors: string[] = [];
      const out = read(v, "", errors);
      if (errors.length > 0) throw new Error(`invalid: ${errors.join("; ")}`);
      return out;
    },
  };
  return self;
}

export const string = (): Schema<string> =>
  make((v, p, e) => {
    if (typeof v !== "string") e.push(`${at(p)}: expected string, got ${describe(v)}`);
    return v as string;
  });

export const boolean = (): Schema<boolean> =>
  make((v, p, e) => {
    if (typeof v !== "boolean") e.push(`${at(p)}: expected boolean, got ${describe(v)}`);
    return v as boolean;
  });

/** A number; `int` requires an integer; `min`/`max` are inclusive. */
export const number = (o: { int?: boolean; min?: number; max?: number } = {}): Schema<number> =>
  make((v, p, e) => {
    if (typeof v !== "number" || !Number.isFinite(v)) e.push(`${at(p)}: expected number, got ${describe(v)}`);
    else if (o.int && !Number.isInteger(v)) e.push(`${at(p)}: expected an integer, got ${v}`);
    else if (o.min !== undefined && v < o.min) e.push(`${at(p)}: must be at least ${o.min}, got ${v}`);
    else if (o.max !== undefined && v > o.max) e.push(`${at(p)}: must be at most ${o.max}, got ${v}`);
    return v as number;
  });

export const int = (min?: number, max?: number): Schema<number> =>
  number({ int: true, ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) });

export const port = (): Schema<number> => int(1, 65535);

export const literal = <const L extends readonly string[]>(...values: L): Schema<L[number]> =>
  make((v, p, e) => {
    if (typeof v !== "string" || !values.includes(v))
      e.push(`${at(p)}: expected one of ${values.map((x) => `"${x}"`).join(", ")}, got ${JSON.stringify(v)}`);
    return v as L[number];
  });

export const array = <T>(item: Schema<T>): Schema<T[]> =>
  make((v, p, e) => {
    if (!Array.isArray(v)) {
      e.push(`${at(p)}: expected array, got ${describe(v)}`);
      return v as T[];
    }
    return v.map((x, i) => item.read(x, `${p}${p ? "." : ""}${i}`, e));
  });

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export const record = <T>(value: Schema<T>): Schema<Record<string, T>> =>
  make((v, p, e) => {
    if (!isPlainObject(v)) {
      e.push(`${at(p)}: expected object, got ${describe(v)}`);
      return v as Record<string, T>;
    }
    const out: Record<string, T> = {};
    for (const [k, x] of Object.entries(v)) out[k] = value.read(x, `${p}${p ? "." : ""}${k}`, e);
    return out;
  });

/** An object with exactly these keys: unknown keys are errors (a field the proxy would ignore is refused). */
export const object = <S extends Shape>(shape: S): Schema<ObjectOf<S>> =>
  make((v, p, e) => {
    if (!isPlainObject(v)) {
      e.push(`${at(p)}: expected object, got ${describe(v)}`);
      return v as ObjectOf<S>;
    }
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v))
      if (!Object.prototype.hasOwnProperty.call(shape, k))
        e.push(`${p}${p ? "." : ""}${k}: unrecognized key`);
    for (const [k, s] of Object.entries(shape)) {
      const x = s.read(v[k], `${p}${p ? "." : ""}${k}`, e);
      if (x !== undefined) out[k] = x;
    }
    return out as ObjectOf<S>;
  });

/** Any JSON value, kept as is (for data the proxy passes through without reading). */
export const unknown = (): Schema<unknown> => make((v) => v);
