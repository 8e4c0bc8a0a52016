import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {CidError, KubecostConnectionError, KubecostError} from '../../src/lib/errors.js'
import {KubecostClient} from '../../src/lib/kubecost/client.js'
import type {Entry} from '../../src/lib/kubecost/envelope-splitter.js'
import {FakeKubecost} from '../fakes/kubecost-server.js'

const DAY = '2026-03-02'
const params = {
  window: `${DAY}T00:00:00Z,2026-03-03T00:00:00Z`,
  aggregate: 'cluster,node,namespace,controllerKind,controller,pod,container',
}

/** A client whose timeouts a busy machine never reaches: the tests that need one to pass set their own. */
function client(url: string, extra: Partial<ConstructorParameters<typeof KubecostClient>[0]> = {}) {
  return new KubecostClient({
    baseUrl: url,
    connectTimeoutMs: 10_000,
    allocationReadTimeoutMs: 10_000,
    assetsReadTimeoutMs: 10_000,
    retry: {retries: 2, baseDelayMs: 1},
    ...extra,
  })
}

describe('KubecostClient', () => {
  let fake: FakeKubecost
  before(async () => {
    fake = await FakeKubecost.start({cluster: 'prod', days: [DAY], containersPerDay: 5})
  })
  after(async () => fake.close())

  it('streams every entry with its set index and key', async () => {
    const kubecost = client(fake.url)
    const entries: Entry[] = []
    const result = await kubecost.stream('allocation', params, {onEntry: e => entries.push(e)})
    await kubecost.close()
    assert.equal(result.entries, entries.length)
    assert.equal(entries.length, 5 + 4 + 1)
    assert.ok(entries.every(e => e.set === 0 && e.key === (e.value as {name: string}).name))
  })

  it('keeps a base URL path and sends credentials from the URL as basic auth, never in messages', async () => {
    const url = new URL(fake.url)
    url.username = 'admin'
    url.password = 's3cret'
    url.pathname = '/kubecost'
    const kubecost = client(url.toString())
    assert.equal(kubecost.url('assets', {a: 'b'}), `${fake.url}/kubecost/model/assets?a=b`)
    const result = await kubecost.stream('assets', {window: params.window}, {onEntry() {}})
    await kubecost.close()
    assert.equal(result.url, `${fake.url}/kubecost/model/assets?window=${encodeURIComponent(params.window)}`)
    const last = fake.requests.at(-1)
    assert.equal(last?.path, '/kubecost/model/assets')
    assert.equal(last?.authorization, `Basic ${Buffer.from('admin:s3cret').toString('base64')}`)
  })

  it('does not retry a failure after entries were handed out unless the consumer can start over', async () => {
    const flaky = await FakeKubecost.start({cluster: 'prod', days: [DAY], containersPerDay: 5})
    flaky.addFault({kind: 'reset-mid-body', api: 'allocation', times: 1})
    const kubecost = client(flaky.url)
    try {
      await assert.rejects(kubecost.stream('allocation', params, {onEntry() {}}), KubecostConnectionError)
      assert.equal(flaky.requests.length, 1)
    } finally {
      await kubecost.close()
      await flaky.close()
    }
  })

  it('starts over after a mid-body failure when the consumer drops what it had', async () => {
    const flaky = await FakeKubecost.start({cluster: 'prod', days: [DAY], containersPerDay: 5})
    flaky.addFault({kind: 'reset-mid-body', api: 'allocation', times: 1})
    const kubecost = client(flaky.url)
    let names: string[] = []
    let restarts = 0
    try {
      await kubecost.stream('allocation', params, {
        onEntry: e => names.push(e.key),
        onRestart() {
          restarts++
          names = []
        },
      })
      assert.equal(restarts, 1)
      assert.equal(names.length, 10)
      assert.equal(new Set(names).size, 10)
    } finally {
      await kubecost.close()
      await flaky.close()
    }
  })

  it('names a DNS failure with the host and a hint, without retrying', async () => {
    let lookups = 0
    const kubecost = client('http://kubecost-cost-analyzer.kubecost:9090', {
      lookup: ((hostname: string, _options: unknown, callback: (error: Error | null) => void) => {
        lookups++
        callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {code: 'ENOTFOUND'}))
      }) as never,
    })
    try {
      await assert.rejects(kubecost.stream('allocation', params, {onEntry() {}}), (error: unknown) => {
        assert.ok(error instanceof KubecostConnectionError)
        assert.equal(error.reason, 'dns')
        assert.equal(error.exitCode, 1)
        assert.match(
          error.message,
          /Kubecost Allocation API host name kubecost-cost-analyzer\.kubecost could not be resolved: GET http:\/\/kubecost-cost-analyzer\.kubecost:9090\/model\/allocation\?/,
        )
        assert.match(error.suggestions.join(), /resolves only inside the cluster/)
        return true
      })
      assert.equal(lookups, 1)
    } finally {
      await kubecost.close()
    }
  })
})

describe('KubecostClient back-off', () => {
  it('doubles the delay with each retry, with jitter between half and all of it', async () => {
    const fake = await FakeKubecost.start({cluster: 'prod', days: [DAY]})
    fake.addFault({kind: 'status', status: 503, api: 'allocation'})
    // Ceilings 1 s, 2 s, then 4 s capped at 3 s; the jitter picks between half the ceiling and all of it.
    for (const [random, expected] of [
      [0, [500, 1000, 1500]],
      [1, [1000, 2000, 3000]],
    ] as const) {
      const waits: number[] = []
      const kubecost = client(fake.url, {
        retry: {retries: 3, baseDelayMs: 1000, maxDelayMs: 3000},
        random: () => random,
        sleep: async ms => {
          waits.push(ms)
        },
      })
      await assert.rejects(kubecost.stream('allocation', params, {onEntry() {}}))
      await kubecost.close()
      assert.deepEqual(waits, expected)
    }

    await fake.close()
  })
})

/** Stands for the error a caller aborts with (termination, the run's deadline): any CidError. */
class StopError extends CidError {
  readonly code = 'TEST_STOP'
  readonly exitCode = 143
}

describe('KubecostClient abort', () => {
  it('aborts a response in flight at once and rejects with the CidError the caller aborted with', async () => {
    const fake = await FakeKubecost.start({cluster: 'prod', days: [DAY]})
    fake.addFault({kind: 'stall-body', api: 'allocation'})
    const controller = new AbortController()
    const kubecost = client(fake.url, {allocationReadTimeoutMs: 30_000, signal: controller.signal})
    const stop = new StopError('stopping: SIGTERM')
    const started = performance.now()
    setTimeout(() => controller.abort(stop), 200)
    try {
      await assert.rejects(kubecost.stream('allocation', params, {onEntry() {}}), (error: unknown) => error === stop)
      // Well before the 30 s read timeout: the abort, not the timeout, ended it.
      assert.ok(performance.now() - started < 15_000, `took ${performance.now() - started} ms`)
      assert.equal(fake.requests.length, 1)
    } finally {
      await kubecost.close()
      await fake.close()
    }
  })

  it('stops a back-off sleep too, with no further attempt; any other reason becomes a KubecostError', async () => {
    const fake = await FakeKubecost.start({cluster: 'prod', days: [DAY]})
    fake.addFault({kind: 'status', status: 503, api: 'allocation'})
    const controller = new AbortController()
    const kubecost = client(fake.url, {retry: {retries: 3, baseDelayMs: 20_000}, signal: controller.signal})
    const started = performance.now()
    setTimeout(() => controller.abort(), 200)
    try {
      await assert.rejects(kubecost.stream('allocation', params, {onEntry() {}}), (error: unknown) => {
        assert.ok(error instanceof KubecostError)
        assert.equal(error.transient, false)
        assert.equal(error.exitCode, 1)
        assert.match(
          error.message,
          /^Kubecost Allocation API GET http:\/\/127\.0\.0\.1:\d+\/model\/allocation\?\S+ was aborted: the run is stopping$/,
        )
        return true
      })
      // Well before the first 10–20 s back-off ends: the abort cut the sleep short.
      assert.ok(performance.now() - started < 10_000, `took ${performance.now() - started} ms`)
      assert.equal(fake.requests.length, 1)
    } finally {
      await kubecost.close()
      await fake.close()
    }
  })

  it('sends nothing when the signal is already aborted', async () => {
    const fake = await FakeKubecost.start({cluster: 'prod', days: [DAY]})
    const stop = new StopError('stopping')
    const kubecost = client(fake.url, {signal: AbortSignal.abort(stop)})
    try {
      await assert.rejects(kubecost.stream('assets', params, {onEntry() {}}), (error: unknown) => error === stop)
      assert.equal(fake.requests.length, 0)
    } finally {
      await kubecost.close()
      await fake.close()
    }
  })
})

describe('KubecostClient and its consumer', () => {
  it("passes a consumer's failure on as it is: not reported as Kubecost's, not retried", async () => {
    const fake = await FakeKubecost.start({cluster: 'prod', days: [DAY], containersPerDay: 5})
    const kubecost = client(fake.url)
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), {code: 'ENOSPC'})
    try {
      await assert.rejects(
        kubecost.stream('allocation', params, {
          onEntry() {
            throw full
          },
          onRestart() {},
        }),
        (error: unknown) => error === full,
      )
      assert.equal(fake.requests.length, 1)
    } finally {
      await kubecost.close()
      await fake.close()
    }
  })

  it('counts the deadline over the whole call, retries and back-off included', async () => {
    const fake = await FakeKubecost.start({cluster: 'prod', days: [DAY]})
    fake.addFault({kind: 'status', status: 503, api: 'assets'})
    const kubecost = client(fake.url, {assetsDeadlineMs: 300, retry: {retries: 5, baseDelayMs: 10_000}})
    const started = performance.now()
    try {
      await assert.rejects(kubecost.stream('assets', params, {onEntry() {}}), (error: unknown) => {
        assert.ok(error instanceof KubecostConnectionError)
        assert.equal(error.transient, false)
        assert.match(
          error.message,
          /^Kubecost Assets API call did not complete within its 0\.3 s deadline \(\d+ bytes of the response received\): GET /,
        )
        return true
      })
      // Well before the first 5–10 s back-off ends: the deadline cut the sleep short.
      assert.ok(performance.now() - started < 5000, `took ${performance.now() - started} ms`)
      assert.equal(fake.requests.length, 1)
    } finally {
      await kubecost.close()
      await fake.close()
    }
  })

  it('defaults the deadline to ten read timeouts', async () => {
    const fake = await FakeKubecost.start({cluster: 'prod', days: [DAY]})
    // A write every 20 ms never leaves the 1 s read timeout to pass, even on a busy machine: only the
    // deadline, ten read timeouts, ends the call.
    fake.addFault({kind: 'trickle', api: 'allocation', intervalMs: 20})
    const kubecost = client(fake.url, {allocationReadTimeoutMs: 1000, retry: {retries: 0, baseDelayMs: 0}})
    try {
      await assert.rejects(kubecost.stream('allocation', params, {onEntry() {}}), /within its 10 s deadline/)
    } finally {
      await kubecost.close()
      await fake.close()
    }
  })
})
