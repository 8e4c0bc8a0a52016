/**
 * Every AWS call is bounded: each attempt by the client's timeouts (and sent again), each call in
 * all by its deadline, and every call by the run's abort signal; over real sockets, against an
 * endpoint that accepts requests and never answers.
 */
import assert from 'node:assert/strict'
import {after, afterEach, before, describe, it} from 'node:test'

import {GetCallerIdentityCommand, STSClient} from '@aws-sdk/client-sts'

import {classifyAwsError} from '../../src/lib/aws/errors.js'
import {CallDeadlineError, boundCalls} from '../../src/lib/aws/limits.js'
import {AwsSession} from '../../src/lib/aws/session.js'
import {AwsError, RunAbortedError, RunDeadlineError} from '../../src/lib/errors.js'
import {StallingEndpoint} from '../fakes/http.js'
import {named} from '../settings.js'

const CREDENTIALS = {accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret'}
const NO_FILES = {AWS_CONFIG_FILE: '/nonexistent/config', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials'}
/** Far beyond what any of these tests waits: a call that ends, ends because of the bound under test. */
const LONG = 60_000

/** Milliseconds `work` took to settle, and how. */
async function timed(work: Promise<unknown>): Promise<{ms: number; error: unknown}> {
  const started = Date.now()
  try {
    await work
    return {ms: Date.now() - started, error: undefined}
  } catch (error) {
    return {ms: Date.now() - started, error}
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

describe('boundCalls', () => {
  let stalled: StallingEndpoint
  const clients: STSClient[] = []
  const sts = (deadlineMs: number, stop?: AbortSignal) => {
    const client = new STSClient({
      endpoint: stalled.endpoint,
      region: 'us-east-1',
      credentials: CREDENTIALS,
      maxAttempts: 1,
      requestHandler: {connectionTimeout: LONG, socketTimeout: LONG},
    })
    clients.push(client)
    return boundCalls(client, {ms: deadlineMs, setting: '--aws-deadline (AWS_CALL_DEADLINE)'}, stop)
  }

  before(async () => {
    stalled = await StallingEndpoint.start()
  })
  afterEach(() => {
    for (const client of clients.splice(0)) client.destroy()
  })
  after(() => stalled.close())

  it('ends a call that outlives its deadline, and closes its connection', async () => {
    const before = stalled.requests.length
    const {ms, error} = await timed(sts(1000).send(new GetCallerIdentityCommand({})))
    assert.ok(error instanceof CallDeadlineError, String(error))
    assert.deepEqual(error.limit, {ms: 1000, setting: '--aws-deadline (AWS_CALL_DEADLINE)'})
    assert.ok(ms < 10_000, `ended after ${ms} ms`)
    await until(() => stalled.requests[before]?.closedAt !== undefined, 'the connection to close')
  })

  it("ends every call in flight when the run's signal aborts, with the run's reason", async () => {
    const stop = new AbortController()
    const client = sts(LONG, stop.signal)
    const before = stalled.requests.length
    const calls = [client.send(new GetCallerIdentityCommand({})), client.send(new GetCallerIdentityCommand({}))]
    await until(() => stalled.requests.length === before + 2, 'both requests to arrive')
    const reason = new RunAbortedError('SIGTERM')
    stop.abort(reason)
    for (const call of calls) {
      const {error} = await timed(call)
      assert.equal(error, reason)
    }

    // A call made after the run stopped is not sent at all.
    const late = await timed(client.send(new GetCallerIdentityCommand({})))
    assert.equal(late.error, reason)
    assert.equal(stalled.requests.length, before + 2)
  })

  it("turns the run's deadline into a deadline of the call, naming the run's setting", async () => {
    const stop = new AbortController()
    const client = sts(LONG, stop.signal)
    const call = client.send(new GetCallerIdentityCommand({}))
    const run = new RunDeadlineError('the run deadline passed', {
      limit: {setting: '--run-deadline (RUN_DEADLINE)', seconds: 1},
    })
    setTimeout(() => stop.abort(run), 100)
    const {error} = await timed(call)
    assert.ok(error instanceof CallDeadlineError, String(error))
    assert.deepEqual(error.limit, {ms: 1000, setting: '--run-deadline (RUN_DEADLINE)'})
    assert.equal(error.cause, run)
  })

  it("leaves a caller's own abort as the SDK reports it", async () => {
    const mine = new AbortController()
    const call = sts(LONG).send(new GetCallerIdentityCommand({}), {abortSignal: mine.signal})
    setTimeout(() => mine.abort(), 100)
    const {error} = await timed(call)
    assert.ok(error instanceof Error)
    assert.equal(error.name, 'AbortError')
  })

  it('a call cut off by a deadline is reported naming the service, the call and the setting to raise', () => {
    const error = classifyAwsError(new CallDeadlineError({ms: 1500, setting: '--aws-deadline (AWS_CALL_DEADLINE)'}), {
      action: 'secretsmanager:GetSecretValue',
      resource: 'secret kubecost/ca',
    })
    assert.ok(error instanceof AwsError)
    assert.equal(error.code, 'AWS_DEADLINE')
    assert.equal(error.exitCode, 1)
    assert.equal(
      error.summary,
      'Secrets Manager did not answer secretsmanager:GetSecretValue on secret kubecost/ca before the 1.5 s of --aws-deadline (AWS_CALL_DEADLINE) passed',
    )
    assert.match(error.suggestions.join(' '), /raise --aws-deadline \(AWS_CALL_DEADLINE\)/)
  })
})

describe("the session's clients", () => {
  let stalled: StallingEndpoint
  const saved = {...process.env}
  before(async () => {
    stalled = await StallingEndpoint.start()
    // The SDK reads endpoints and the default chain's keys from the process environment.
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_STS: stalled.endpoint,
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    })
  })
  after(async () => {
    process.env = saved
    await stalled.close()
  })
  const env = {...NO_FILES, AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId}

  it('time out each attempt, send it again, and name the setting that bounds an attempt', async () => {
    const session = await AwsSession.open({env, aws: {timeoutMs: 200, deadlineMs: LONG}})
    try {
      const before = stalled.requests.length
      const {ms, error} = await timed(session.accountId())
      assert.ok(error instanceof AwsError, String(error))
      assert.equal(error.code, 'AWS_TIMEOUT')
      assert.match(
        named(error.summary, 'crawl'),
        /^STS did not answer in time: sts:GetCallerIdentity on the caller identity timed out after 3 attempts, each attempt waiting 0\.2 s \(--aws-timeout \(AWS_REQUEST_TIMEOUT\)\)/,
      )
      // Three attempts, each a request of its own, signed for the session's region.
      const attempts = stalled.requests.slice(before)
      assert.equal(attempts.length, 3)
      assert.deepEqual(
        attempts.map(r => r.region),
        ['eu-west-1', 'eu-west-1', 'eu-west-1'],
      )
      assert.ok(ms < 20_000, `ended after ${ms} ms`)
    } finally {
      await session.destroy()
    }
  })

  it('end a call at the deadline of a call, attempts and back-off included', async () => {
    const session = await AwsSession.open({env, aws: {timeoutMs: LONG, deadlineMs: 300}})
    try {
      const {error} = await timed(session.accountId())
      assert.ok(error instanceof AwsError, String(error))
      assert.equal(
        named(error.summary, 'crawl'),
        'STS did not answer sts:GetCallerIdentity on the caller identity before the 0.3 s of --aws-deadline (AWS_CALL_DEADLINE) passed',
      )
    } finally {
      await session.destroy()
    }
  })

  it("stop at once when the run's signal aborts, saying during which call", async () => {
    const stop = new AbortController()
    const session = await AwsSession.open({env, signal: stop.signal, aws: {timeoutMs: LONG, deadlineMs: LONG}})
    try {
      const before = stalled.requests.length
      const call = timed(session.accountId())
      await until(() => stalled.requests.length > before, 'the request to arrive')
      stop.abort(new RunAbortedError('SIGINT'))
      const {error} = await call
      assert.ok(error instanceof RunAbortedError, String(error))
      assert.equal(error.exitCode, 130)
      assert.equal(error.summary, 'Received SIGINT: stopped during sts:GetCallerIdentity on the caller identity')
    } finally {
      await session.destroy()
    }
  })
})
