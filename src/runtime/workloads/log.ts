// One structured line per event on stdout for the stand-in workloads; these lines are what `shoal logs`
// shows for a pod whose container runs a built-in stand-in.

export type LogFields = Record<string, string | number | boolean | undefined>;

/** Writes one event line: `TIME workload=NAME event=EVENT key=value …`. */
export type Logger = (event: string, fields?: LogFields) => void;

/** Quotes a value only when it would not read back as one token. */
function formatValue(value: string | number | boolean): string {
  const text = String(value);
  return text === "" || /[\s"=\\]/.test(text) || /[^\x20-\x7e]/.test(text) ? JSON.stringify(text) : text;
}

export function formatEvent(time: Date, workload: string, event: string, fields: LogFields = {}): string {
  const parts = [time.toISOString(), `workload=${formatValue(workload)}`, `event=${formatValue(event)}`];
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) parts.push(`${key}=${formatValue(value)}`);
  }
  return parts.join(" ");
}

export function createLogger(
  workload: string,
  write: (line: string) => void = (line) => process.stdout.write(line + "\n"),
): Logger {
  return (event, fields) => write(formatEvent(new Date(), workload, event, fields));
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = () => {};
