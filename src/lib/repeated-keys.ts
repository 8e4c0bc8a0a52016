import type {Day} from './dates.js'
import {KeySet} from './key-set.js'
import type {Logger} from './log.js'

/** Repeats warned about one by one; beyond these, one line at the end says how many there were. */
const MAX_WARNINGS = 10

/**
 * Kubecost keys allocations uniquely within a set (one step of the answer), so a key seen twice is a
 * broken answer that would count the allocation's cost twice: the repeat is dropped and reported.
 * The keys are kept off the JavaScript heap (see KeySet), so a back-fill's memory does not grow.
 */
export class RepeatedKeys {
  private readonly seen = new KeySet()
  private set = -1
  private repeats = 0

  constructor(
    private readonly product: string,
    private readonly day: Day,
    private readonly logger: Logger,
  ) {}

  /** Whether this is the first entry with its key in its set; a repeat is counted and warned about. */
  first(entry: {set: number; key: string}): boolean {
    if (entry.set !== this.set) {
      this.seen.clear()
      this.set = entry.set
    }

    // One look-up: `add` says whether the key was there.
    if (!this.seen.add(entry.key)) {
      this.repeats++
      if (this.repeats <= MAX_WARNINGS) {
        this.logger.warn(
          `${this.product} returned allocation ${JSON.stringify(entry.key)} twice for ${this.day}; counting it once`,
          {day: this.day, allocation: entry.key},
        )
      }

      return false
    }

    return true
  }

  /** The answer starts over (a retried download): nothing has been seen yet. */
  reset(): void {
    this.seen.clear()
    this.set = -1
    this.repeats = 0
  }

  /** Once the whole answer is read: one line for the repeats beyond those warned about one by one. */
  finish(): void {
    if (this.repeats > MAX_WARNINGS) {
      this.logger.warn(
        `${this.product} returned ${this.repeats} allocation keys more than once for ${this.day}; each was counted once`,
        {day: this.day, duplicates: this.repeats},
      )
    }
  }
}
