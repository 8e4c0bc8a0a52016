/**
 * Waiting on work that runs elsewhere (a Glue crawl, an Athena query, a SPICE ingestion): poll with
 * back-off until it is done or a deadline passes, on a clock that tests control, reporting progress
 * as events that commands render (a listr2 task on a terminal, log lines in a CronJob, nothing under
 * --json). Retry back-off lives here too, so every wait in the tool grows the same way.
 */

/** Time, as the wait loop sees it: real by default, fake in tests. */
export interface Clock {
  now(): number
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

export const systemClock: Clock = {
  now: () => Date.now(),
  async sleep(ms, signal) {
    const {setTimeout: delay} = await import('node:timers/promises')
    try {
      await delay(ms, undefined, {signal})
    } catch (error) {
      // Why the run stopped (a signal, a deadline), rather than a bare AbortError.
      signal?.throwIfAborted()
      throw error
    }
  },
}

export interface BackoffPolicy {
  /** The first delay. */
  initialMs: number
  /** The longest delay. */
  maxMs: number
  /** Each delay is the previous one times this (default 2). */
  factor?: number
}

/**
 * The delay before attempt `n + 1` after `n` failed or unfinished ones (n ≥ 1): exponential, capped,
 * with "equal jitter" when `random` is given (half fixed, half random), so that many waiters spread out.
 */
export function backoffDelay(policy: BackoffPolicy, n: number, random?: () => number): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * (policy.factor ?? 2) ** (n - 1))
  return random ? Math.round(ceiling / 2 + random() * (ceiling / 2)) : ceiling
}

/** What one poll found. */
export type PollResult<T> = {done: true; value: T} | {done: false; state: string; detail?: string}

export interface ProgressEvent {
  /** What is being waited on, e.g. "crawler kubecost_crawler". */
  subject: string
  /** The state the last poll reported, e.g. RUNNING. */
  state: string
  detail?: string
  elapsedMs: number
}

export interface WaitOptions {
  subject: string
  /** Give up after this long (the caller's TimeoutError says what to do). */
  timeoutMs: number
  poll: BackoffPolicy
  clock?: Clock
  signal?: AbortSignal
  /** Called after every poll that is not done, and whenever the state changes. */
  onProgress?: (event: ProgressEvent) => void
}

export class WaitTimeoutError extends Error {
  constructor(
    readonly subject: string,
    readonly timeoutMs: number,
    readonly lastState: string,
  ) {
    super(`${subject} was still ${lastState} after ${Math.round(timeoutMs / 1000)} s`)
    this.name = 'WaitTimeoutError'
  }
}

/**
 * Polls until `check` reports done, sleeping with back-off in between, and never past the deadline:
 * the last sleep is cut short so the final poll happens at the deadline, then WaitTimeoutError.
 */
export async function waitFor<T>(check: () => Promise<PollResult<T>>, options: WaitOptions): Promise<T> {
  const clock = options.clock ?? systemClock
  const started = clock.now()
  const deadline = started + options.timeoutMs
  for (let polls = 1; ; polls++) {
    options.signal?.throwIfAborted()
    const result = await check()
    if (result.done) return result.value
    const now = clock.now()
    options.onProgress?.({
      subject: options.subject,
      state: result.state,
      detail: result.detail,
      elapsedMs: now - started,
    })
    if (now >= deadline) throw new WaitTimeoutError(options.subject, options.timeoutMs, result.state)
    await clock.sleep(Math.min(backoffDelay(options.poll, polls), deadline - now), options.signal)
  }
}

/** waitFor, its WaitTimeoutError turned into the caller's own error (which says what to do). */
export async function waitOrFail<T>(
  check: () => Promise<PollResult<T>>,
  options: WaitOptions,
  timedOut: (error: WaitTimeoutError) => Error,
): Promise<T> {
  try {
    return await waitFor(check, options)
  } catch (error) {
    throw error instanceof WaitTimeoutError ? timedOut(error) : error
  }
}
