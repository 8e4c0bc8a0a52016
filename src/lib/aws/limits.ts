/**
 * Bounds on AWS calls. The SDK's HTTP handler bounds one attempt (the connection and any wait for
 * progress), but nothing bounds a call: its attempts, back-off and credential look-ups go on, and
 * the run has no way to stop one. So every client the session makes has its `send` bounded here,
 * whoever sends through it (our operations, S3 uploads, the STS calls of the credential providers):
 * a call ends when its own deadline passes or when the run is stopped (a signal, the run's deadline,
 * a command's --timeout), and its socket is closed, since the abort reaches the SDK's handler.
 */
import {RunDeadlineError} from '../errors.js'

export const DEFAULT_S3_TIMEOUT_MS = 120_000
/** One S3 call in all: five attempts that each wait the whole S3 timeout, and their back-off, fit in it. */
export const DEFAULT_S3_DEADLINE_MS = 720_000
/** Glue, Athena, QuickSight, STS, Secrets Manager: their calls answer in well under a second. */
export const DEFAULT_AWS_TIMEOUT_MS = 30_000
export const DEFAULT_AWS_DEADLINE_MS = 120_000

export interface Limit {
  ms: number
  /** The setting that changes it, as messages name it (a setting token, or a flag and its variable). */
  setting: string
}

/** How long one attempt may wait (to connect, or for any progress), and one call may take in all. */
export interface CallLimits {
  attempt: Limit
  call: Limit
}

/** A call cut off by a deadline: its own, or one of the whole run (--run-deadline, a command's --timeout). */
export class CallDeadlineError extends Error {
  constructor(
    readonly limit: Limit,
    options?: ErrorOptions,
  ) {
    super(`no answer within ${limit.ms / 1000} s (${limit.setting})`, options)
    this.name = 'CallDeadlineError'
  }
}

type Send = (command: unknown, options?: {abortSignal?: AbortSignal}) => Promise<unknown>

/**
 * `client`, its every call ended after `deadline`, or when `stop` aborts. A caller's own abort
 * signal still works, and its abort is reported as the SDK reports it (the caller knows why).
 * The SDK takes an abort signal only per call, hence the wrapped `send`.
 */
export function boundCalls<C extends {send: unknown}>(client: C, deadline: Limit, stop?: AbortSignal): C {
  const send = (client.send as Send).bind(client)
  const bounded: Send = async (command, options = {}) => {
    const expiry = new AbortController()
    const timer = setTimeout(() => expiry.abort(new CallDeadlineError(deadline)), deadline.ms)
    const ends = stop ? [expiry.signal, stop] : [expiry.signal]
    const signal = AbortSignal.any(options.abortSignal ? [...ends, options.abortSignal] : ends)
    try {
      return await untilAborted(send(command, {...options, abortSignal: signal}), signal)
    } catch (error) {
      if (options.abortSignal?.aborted) throw error
      const ended = ends.find(s => s.aborted)
      throw ended ? why(ended.reason, error) : error
    } finally {
      clearTimeout(timer)
    }
  }

  ;(client as unknown as {send: Send}).send = bounded
  return client
}

/** What ended a call: its deadline, the run's deadline as a deadline of the call, or the run's own reason (a signal). */
function why(reason: unknown, error: unknown): unknown {
  if (reason instanceof RunDeadlineError && reason.limit)
    return new CallDeadlineError({ms: reason.limit.seconds * 1000, setting: reason.limit.setting}, {cause: reason})
  return reason instanceof Error ? reason : error
}

/** `work`, or a rejection as soon as `signal` aborts, whichever comes first; a later failure of `work` is dropped. */
async function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      reject(signal.reason as Error)
    }

    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, {once: true})
    work.then(resolve, reject).finally(() => {
      signal.removeEventListener('abort', onAbort)
    })
  })
}
