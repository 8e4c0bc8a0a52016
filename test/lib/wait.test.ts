import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {type PollResult, type ProgressEvent, WaitTimeoutError, backoffDelay, waitFor} from '../../src/lib/wait.js'
import {type ProgressMode, progressMode, withProgress} from '../../src/progress.js'
import {FakeClock} from '../fakes/clock.js'

/** A job that reports `states` one per poll, then is done with `value`. */
function job<T>(states: string[], value: T): () => Promise<PollResult<T>> {
  let polls = 0
  return async () => {
    const state = states[polls++]
    return state === undefined ? {done: true, value} : {done: false, state}
  }
}

/** What `work` writes on stderr, kept from the real one. */
async function capturingStderr(work: () => Promise<void>): Promise<string> {
  const original = process.stderr.write.bind(process.stderr)
  let written = ''
  process.stderr.write = (chunk: string | Uint8Array) => ((written += chunk.toString()), true)
  try {
    await work()
  } finally {
    process.stderr.write = original
  }

  return written
}

describe('backoffDelay', () => {
  it('doubles from the first delay up to the cap', () => {
    const policy = {initialMs: 1000, maxMs: 10_000}
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6].map(n => backoffDelay(policy, n)),
      [1000, 2000, 4000, 8000, 10_000, 10_000],
    )
    assert.deepEqual(
      [1, 2, 3].map(n => backoffDelay({...policy, factor: 3}, n)),
      [1000, 3000, 9000],
    )
  })

  it('with jitter, stays between half the delay and the delay', () => {
    const policy = {initialMs: 2000, maxMs: 30_000}
    assert.equal(
      backoffDelay(policy, 3, () => 0),
      4000,
    )
    assert.equal(
      backoffDelay(policy, 3, () => 1),
      8000,
    )
    assert.equal(
      backoffDelay(policy, 10, () => 0.5),
      22_500,
    )
  })
})

describe('waitFor', () => {
  it('polls with back-off until done, reporting each state with the elapsed time', async () => {
    const clock = new FakeClock(1_000_000)
    const events: ProgressEvent[] = []
    const value = await waitFor(job(['STARTING', 'RUNNING', 'RUNNING', 'STOPPING'], 'READY'), {
      subject: 'crawler c',
      timeoutMs: 600_000,
      poll: {initialMs: 5000, maxMs: 15_000},
      clock,
      onProgress: e => events.push(e),
    })
    assert.equal(value, 'READY')
    assert.deepEqual(clock.sleeps, [5000, 10_000, 15_000, 15_000])
    assert.deepEqual(
      events.map(e => [e.state, e.elapsedMs]),
      [
        ['STARTING', 0],
        ['RUNNING', 5000],
        ['RUNNING', 15_000],
        ['STOPPING', 30_000],
      ],
    )
    assert.ok(events.every(e => e.subject === 'crawler c'))
  })

  it('stops at the deadline, the last sleep cut short, with the last state', async () => {
    const clock = new FakeClock()
    const wait = waitFor(
      job(
        Array.from({length: 100}, () => 'RUNNING'),
        'never',
      ),
      {
        subject: 'query q',
        timeoutMs: 25_000,
        poll: {initialMs: 10_000, maxMs: 10_000},
        clock,
      },
    )
    await assert.rejects(
      wait,
      (error: unknown) =>
        error instanceof WaitTimeoutError &&
        error.lastState === 'RUNNING' &&
        error.message === 'query q was still RUNNING after 25 s',
    )
    assert.deepEqual(clock.sleeps, [10_000, 10_000, 5000])
    assert.equal(clock.now(), 25_000)
  })

  it('returns at once when the first poll is done, and stops when aborted', async () => {
    const clock = new FakeClock()
    assert.equal(
      await waitFor(job([], 7), {subject: 's', timeoutMs: 1000, poll: {initialMs: 100, maxMs: 100}, clock}),
      7,
    )
    assert.deepEqual(clock.sleeps, [])
    const controller = new AbortController()
    controller.abort(new Error('stop'))
    await assert.rejects(
      waitFor(job(['RUNNING'], 1), {
        subject: 's',
        timeoutMs: 1000,
        poll: {initialMs: 100, maxMs: 100},
        clock,
        signal: controller.signal,
      }),
      /stop/,
    )
  })
})

describe('progress rendering', () => {
  it('is silent under --json, log lines in a pipe or with JSON logs, live on a terminal', () => {
    const mode = (json: boolean, isTTY: boolean, logFormat: 'text' | 'json'): ProgressMode =>
      progressMode({json, isTTY, logFormat})
    assert.equal(mode(true, true, 'text'), 'silent')
    assert.equal(mode(false, false, 'text'), 'log')
    assert.equal(mode(false, true, 'json'), 'log')
    assert.equal(mode(false, true, 'text'), 'terminal')
  })

  it('logs the title, each change of state, and a heartbeat while a state lasts', async () => {
    const lines: string[] = []
    const logger = {debug() {}, info: (m: string) => lines.push(m), warn() {}, error() {}}
    const result = await withProgress('Crawling kubecost_crawler', 'log', logger, async report => {
      for (const [state, elapsedMs] of [
        ['RUNNING', 0],
        ['RUNNING', 30_000],
        ['RUNNING', 61_000],
        ['STOPPING', 70_000],
      ] as const) {
        report({subject: 'crawler kubecost_crawler', state, elapsedMs})
      }

      return 'done'
    })
    assert.equal(result, 'done')
    assert.deepEqual(lines, [
      'Crawling kubecost_crawler',
      'crawler kubecost_crawler: RUNNING, 0 s',
      'crawler kubecost_crawler: RUNNING, 61 s',
      'crawler kubecost_crawler: STOPPING, 70 s',
    ])
  })

  it('says nothing when silent, and passes a failure through in every mode', async () => {
    const lines: string[] = []
    const logger = {debug() {}, info: (m: string) => lines.push(m), warn() {}, error() {}}
    assert.equal(
      await withProgress('t', 'silent', logger, async report => (report({subject: 's', state: 'X', elapsedMs: 0}), 1)),
      1,
    )
    assert.deepEqual(lines, [])
    for (const mode of ['silent', 'log', 'terminal'] as const) {
      // Captured: a failed task drawn among the test run's own lines would read as a failed test.
      const drawn = await capturingStderr(async () =>
        assert.rejects(
          withProgress('a task that fails on purpose', mode, logger, async () =>
            Promise.reject(new Error(`failed in ${mode}`)),
          ),
          new RegExp(`failed in ${mode}`),
        ),
      )
      if (mode === 'terminal') assert.match(drawn, /a task that fails on purpose.*failed in terminal/)
      else assert.equal(drawn, '')
    }
  })

  it('draws a wait that resolves with its failure as failed on a terminal, and still returns what it resolved with', async () => {
    const logger = {debug() {}, info() {}, warn() {}, error() {}}
    const value = {status: 'UNKNOWN', failure: new Error('the crawler was deleted')}
    let returned: typeof value | undefined
    const drawn = await capturingStderr(async () => {
      returned = await withProgress(
        'Crawling with kubecost_crawler',
        'terminal',
        logger,
        async () => value,
        v => v.failure,
      )
    })
    assert.equal(returned, value)
    assert.match(drawn, /✖ Crawling with kubecost_crawler.*the crawler was deleted/)
    assert.doesNotMatch(drawn, /✔/)
    const fine = await capturingStderr(async () => {
      returned = await withProgress(
        'Crawling',
        'terminal',
        logger,
        async () => value,
        () => undefined,
      )
    })
    assert.match(fine, /✔ Crawling/)
  })

  it('renders on stderr, never stdout, in terminal mode', async () => {
    const written = {stdout: '', stderr: ''}
    const original = {
      stdout: process.stdout.write.bind(process.stdout),
      stderr: process.stderr.write.bind(process.stderr),
    }
    process.stdout.write = (chunk: string) => ((written.stdout += chunk), true)
    process.stderr.write = (chunk: string) => ((written.stderr += chunk), true)
    try {
      const value = await withProgress(
        'Refreshing dataset d',
        'terminal',
        {debug() {}, info() {}, warn() {}, error() {}},
        async report => {
          report({subject: 'ingestion i', state: 'RUNNING', elapsedMs: 2000})
          return 42
        },
      )
      assert.equal(value, 42)
    } finally {
      process.stdout.write = original.stdout
      process.stderr.write = original.stderr
    }

    assert.equal(written.stdout, '')
    assert.match(written.stderr, /Refreshing dataset d/)
  })
})
