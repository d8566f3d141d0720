#!/usr/bin/env node
// The `shoal` executable: hands the command line to the dispatcher and exits with its code. Only the
// dispatcher and the command table load here; each command's module (and what it needs) loads when it runs.
import { dispatch } from "./dispatch.js";
import { processIo } from "./io.js";

process.exitCode = await dispatch(process.argv.slice(2), processIo);
