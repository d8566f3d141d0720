// What a fuzz target reports: how many inputs ran and what it found (each with the input, so it reproduces).
export interface Finding {
  kind: "exception" | "crash" | "hang" | "nack-without-reason" | "wrong-decision" | "memory" | "unanswered";
  /** The input's index in the run (regenerate it with the run's seed). */
  index: number;
  message: string;
  input?: string;
}

export interface TargetResult {
  target: string;
  inputs: number;
  findings: Finding[];
  notes: string[];
}
