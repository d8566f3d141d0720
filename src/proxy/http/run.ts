// Runs an exchange's steps in order from where it stands; a step that returns false has answered the
// request or will call `run` again itself (a fault delay, say) to go on with the next step.
import type { Exchange } from "./exchange.js";

export function run(x: Exchange): void {
  const steps = x.steps;
  while (!x.done && x.step < steps.length) {
    const step = steps[x.step++] as (x: Exchange) => boolean;
    if (!step(x)) return;
  }
}
