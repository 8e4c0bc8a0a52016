import assert from 'node:assert/strict'
import {readFile} from 'node:fs/promises'
import {get as httpsGet} from 'node:https'
import {TLSSocket} from 'node:tls'
import {after, before, describe, it} from 'node:test'

import {CidError, KubecostConnectionError, KubecostError, KubecostHttpError} from '../../src/lib/errors.js'
import {KubecostClient, baseUrlAs} from '../../src/lib/kubecost/client.js'
import type {Entry} from '../../src/lib/kubecost/envelope-splitter.js'
import {FakeKubecost} from '../fakes/kubecost-server.js'

const DAY = '2026-03-02'
const TLS_DIR = new URL('../fixtures/tls/', import.meta.url)
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

describe('KubecostClient and a URL whose scheme does not match the port', () => {
  it('https:// to a plain-HTTP port: not retried, the hint gives the base URL with http:// and nothing else', async () => {
    const fake = await FakeKubecost.start({cluster: 'prod', days: [DAY]})
    const url = new URL(fake.url)
    url.protocol = 'https:'
    url.username = 'admin'
    url.password = 's3cret'
    url.pathname = '/kubecost'
    const kubecost = client(url.toString())
    try {
      await assert.rejects(kubecost.stream('allocation', params, {onEntry() {}}), (error: unknown) => {
        assert.ok(error instanceof KubecostConnectionError)
        assert.equal(error.reason, 'tls')
        assert.equal(error.transient, false)
        assert.deepEqual(error.suggestions, [
          `The port answers plain HTTP: use ${fake.url}/kubecost in {{setting:kubecostUrl}}.`,
        ])
        return true
      })
      assert.equal(fake.requests.length, 0)
    } finally {
      await kubecost.close()
      await fake.close()
    }
  })

  it('http:// to a port that speaks TLS: named as such, not retried, the hint gives the https:// base URL', async () => {
    const fake = await FakeKubecost.start({
      cluster: 'prod',
      days: [DAY],
      tls: {
        key: await readFile(new URL('server.key', TLS_DIR), 'utf8'),
        cert: await readFile(new URL('server.pem', TLS_DIR), 'utf8'),
      },
    })
    const url = new URL(fake.url)
    url.protocol = 'http:'
    url.pathname = '/kubecost/'
    let sleeps = 0
    const kubecost = client(url.toString(), {
      sleep: async () => {
        sleeps++
      },
    })
    try {
      await assert.rejects(kubecost.stream('allocation', params, {onEntry() {}}), (error: unknown) => {
        assert.ok(error instanceof KubecostConnectionError)
        assert.equal(error.reason, 'tls')
        assert.equal(error.transient, false)
        assert.match(
          error.message,
          /^Kubecost Allocation API connection to 127\.0\.0\.1:\d+ failed: the port speaks TLS and the request was plain HTTP: GET http:\/\//,
        )
        assert.deepEqual(error.suggestions, [
          `The port speaks TLS: use ${fake.url}/kubecost in {{setting:kubecostUrl}}; if its certificate is from a private CA, trust it with {{flag:caCertFile}} or {{flag:caCertSecret}}.`,
        ])
        return true
      })
      assert.equal(sleeps, 0)
    } finally {
      await kubecost.close()
      await fake.close()
    }
  })

  for (const [server, body] of [
    [
      'nginx',
      '<html>\r\n<head><title>400 The plain HTTP request was sent to HTTPS port</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n</body>\r\n</html>\r\n',
    ],
    ['Go', 'Client sent an HTTP request to an HTTPS server.\n'],
  ] as const) {
    it(`http:// to ${server}'s TLS port, which answers 400 saying so: the https:// hint, not the query's`, async () => {
      const fake = await FakeKubecost.start({cluster: 'prod', days: [DAY]})
      fake.addFault({kind: 'raw', status: 400, reason: 'Bad Request', body})
      const kubecost = client(fake.url)
      try {
        await assert.rejects(kubecost.stream('allocation', params, {onEntry() {}}), (error: unknown) => {
          assert.ok(error instanceof KubecostHttpError)
          assert.equal(error.status, 400)
          assert.deepEqual(error.suggestions, [
            `The port speaks TLS: use ${fake.url.replace(/^http:/, 'https:')} in {{setting:kubecostUrl}}; if its certificate is from a private CA, trust it with {{flag:caCertFile}} or {{flag:caCertSecret}}.`,
          ])
          return true
        })
      } finally {
        await kubecost.close()
        await fake.close()
      }
    })
  }

  it('a 400 of the query keeps the query hint', async () => {
    const fake = await FakeKubecost.start({cluster: 'prod', days: [DAY]})
    fake.addFault({kind: 'text-400', api: 'allocation'})
    const kubecost = client(fake.url)
    try {
      await assert.rejects(
        kubecost.stream('allocation', params, {onEntry() {}}),
        (error: unknown) => error instanceof KubecostHttpError && /rejected the query/.test(error.suggestions.join()),
      )
    } finally {
      await kubecost.close()
      await fake.close()
    }
  })

  it('baseUrlAs keeps the base path and the port (explicit when it was the default), drops the rest', () => {
    assert.equal(baseUrlAs('https://kubecost.example.com', 'http:'), 'http://kubecost.example.com:443')
    assert.equal(baseUrlAs('http://kubecost-frontend.kubecost', 'https:'), 'https://kubecost-frontend.kubecost:80')
    assert.equal(baseUrlAs('http://kubecost.example.com:443/', 'https:'), 'https://kubecost.example.com')
    assert.equal(
      baseUrlAs('https://u:p@kubecost.example.com:8443/base/?a=b#c', 'http:'),
      'http://kubecost.example.com:8443/base',
    )
    assert.equal(baseUrlAs('https://[::1]:9090', 'http:'), 'http://[::1]:9090')
  })
})

describe('KubecostClient and a server that offers only TLS 1.1', () => {
  it('is refused with a named TLS failure and the next step, not retried', async () => {
    const ca = await readFile(new URL('ca.pem', TLS_DIR), 'utf8')
    const fake = await FakeKubecost.start({
      cluster: 'prod',
      days: [DAY],
      tls: {
        key: await readFile(new URL('server.key', TLS_DIR), 'utf8'),
        cert: await readFile(new URL('server.pem', TLS_DIR), 'utf8'),
        minVersion: 'TLSv1.1',
        maxVersion: 'TLSv1.1',
        // OpenSSL 3 serves TLS 1.1 only at security level 0 (its ciphers use SHA-1).
        ciphers: 'DEFAULT@SECLEVEL=0',
      },
    })
    let sleeps = 0
    const kubecost = client(fake.url, {
      tls: {ca},
      sleep: async () => {
        sleeps++
      },
    })
    try {
      // The server really speaks TLS 1.1 to a client that allows it.
      const protocol = await new Promise<string | null>((resolve, reject) => {
        httpsGet(`${fake.url}/model/assets`, {ca, minVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0'}, res => {
          resolve(res.socket instanceof TLSSocket ? res.socket.getProtocol() : null)
          res.resume()
        }).on('error', reject)
      })
      assert.equal(protocol, 'TLSv1.1')

      await assert.rejects(kubecost.stream('allocation', params, {onEntry() {}}), (error: unknown) => {
        assert.ok(error instanceof KubecostConnectionError)
        assert.equal(error.reason, 'tls')
        assert.equal(error.transient, false)
        assert.match(
          error.message,
          /^Kubecost Allocation API TLS handshake with 127\.0\.0\.1:\d+ failed: the server offers only a TLS version older than 1\.2, the oldest Node\.js accepts \(ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION\): GET https:\/\//,
        )
        assert.match(
          error.suggestions.join(),
          /^Enable TLS 1\.2 or 1\.3 on Kubecost's server, or on the proxy or ingress/,
        )
        return true
      })
      assert.equal(sleeps, 0)
    } finally {
      await kubecost.close()
      await fake.close()
    }
  })
})
