#!/usr/bin/env -S node --max-semi-space-size=2 --v8-pool-size=1
// A small young generation: a large day's parse garbage otherwise grows it, and the peak RSS with
// it, by tens of megabytes that vary from run to run, for no measurable speed (npm run bench).
// One V8 helper thread (garbage collection, compilation) instead of four: the export already keeps
// two threads busy (the main one and a parse thread), and on the 2 CPUs it gets, more helpers only
// take turns with them (npm run bench: ~7 % less wall time, ~+30 MB peak RSS).
import {execute} from '@oclif/core'

import {runGuarded} from '../dist/run-guard.js'

// Never Node's exit code 13 for a command left waiting on a handle that does not hold the process open.
await runGuarded(execute({dir: import.meta.url}), process.argv.slice(2))
