#!/usr/bin/env -S node --max-semi-space-size=2 --v8-pool-size=1
// A small young generation: a large day's parse garbage otherwise grows it, and the peak RSS with
// it, by tens of megabytes that vary from run to run, for no measurable speed (npm run bench).
// One V8 helper thread (garbage collection, compilation) instead of four: the export already keeps
// two threads busy (the main one and a parse thread), and on the 2 CPUs it gets, more helpers only
// take turns with them (npm run bench: ~7 % less wall time, ~+30 MB peak RSS).
import {requireSupportedNode} from './node-version.js'

// The CLI is imported only after the check: on an older Node.js its imports would fail first.
requireSupportedNode()
const {main} = await import('../dist/main.js')
await main(import.meta.url)
