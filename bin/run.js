#!/usr/bin/env -S node --max-semi-space-size=2
// A small young generation: a large day's parse garbage otherwise grows it, and the peak RSS with
// it, by tens of megabytes that vary from run to run, for no measurable speed (npm run bench).
import {execute} from '@oclif/core'

await execute({dir: import.meta.url})
