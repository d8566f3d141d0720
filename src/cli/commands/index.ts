// The list of `shoal` commands. Each lives in its own module.
import type { Command } from "../io.js";

export const COMMANDS: Command[] = [];
