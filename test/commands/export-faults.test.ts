/**
 * The fault matrix: every way the Kubecost connection fails, driven through the real CLI against the
 * fake Kubecost over real HTTP/HTTPS. For each: exit code, message and hint, retries, and that no
 * file is left at the final key.
 */
import assert from 'node:assert/strict'
import {readFile} from 'node:fs/promises'
import {type Server, type Socket, createServer} from 'node:net'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {dayAllocations} from '../fakes/kubecost-data.js'
import {type Fault, FakeKubecost} from '../fakes/kubecost-server.js'
import {listFiles, refusedUrl, runCli, tempDir} from '../helpers.js'
import {readParquet} from '../parquet.js'

const ARN = 'arn:aws:eks:us-east-1:111122223333:cluster/prod'
const NOW = '2026-03-05T10:30:00Z'
const DAY = '2026-03-02'
const KEY = `account_id=111122223333/region=us-east-1/year=2026/month=03/${DAY}_prod.snappy.parquet`
const TLS_DIR = new URL('../fixtures/tls/', import.meta.url).pathname
/**
 * Short retry delays; timeouts that a busy machine never reaches (it can delay a timer by a quarter
 * of a second), so that only a fault ends a call. A test that waits for a timeout sets its own.
 */
const FAST: Record<string, string> = {
  '--retries': '2',
  '--retry-delay': '0.01',
  '--connect-timeout': '10',
  '--allocation-read-timeout': '10',
  '--assets-read-timeout': '10',
}
/** A read timeout that the stalls below reach, and the answers before them do not, however busy the machine. */
const STALL_TIMEOUT = ['--allocation-read-timeout', '2', '--assets-read-timeout', '2']

/** The fast defaults, unless the test sets its own. */
function withFastDefaults(extra: string[]): string[] {
  const fast = Object.entries(FAST)
    .filter(([flag]) => !extra.includes(flag))
    .flat()
  return [...fast, ...extra]
}

interface Outcome {
  code: number
  stderr: string
  files: string[]
  retries: number
  out: string
}

async function exportOnce(url: string, extra: string[] = [], env: Record<string, string> = {}): Promise<Outcome> {
  const out = await tempDir()
  const result = await runCli(
    [
      'export',
      '--cluster-arn',
      ARN,
      '--output-dir',
      out.path,
      '--kubecost-url',
      url,
      '--backfill-days',
      '1',
      '--now',
      NOW,
      ...withFastDefaults(extra),
    ],
    env,
  )
  const files = await listFiles(out.path)
  const retries = result.stderr.split('\n').filter(l => l.includes('Retrying Kubecost')).length
  // Removed at the end of the test process; a few KB each.
  return {code: result.code, stderr: result.stderr, files, retries, out: out.path}
}

async function withFake(fault: Fault, run: (fake: FakeKubecost) => Promise<void>): Promise<void> {
  const fake = await FakeKubecost.start({cluster: 'prod', days: [DAY], containersPerDay: 6})
  fake.addFault(fault)
  try {
    await run(fake)
  } finally {
    await fake.close()
  }
}

const requestsTo = (fake: FakeKubecost, api: string) => fake.requests.filter(r => r.api === api).length

describe('failures that are not retried', () => {
  const cases: Array<{what: string; fault: Fault; message: RegExp; hint: RegExp; extra?: string[]}> = [
    {
      what: 'a response that does not start in time',
      fault: {kind: 'stall-headers', api: 'allocation'},
      message:
        /Kubecost Allocation API did not answer within 2 s: GET http:\/\/127\.0\.0\.1:\d+\/model\/allocation\?window=2026-03-02/,
      hint: /raise --allocation-read-timeout \(KUBECOST_ALLOCATION_API_READ_TIMEOUT\)/,
      extra: STALL_TIMEOUT,
    },
    {
      what: 'an Assets API response that does not start in time',
      fault: {kind: 'stall-headers', api: 'assets'},
      message: /Kubecost Assets API did not answer within 2 s: GET http:\/\/127\.0\.0\.1:\d+\/model\/assets\?/,
      hint: /raise --assets-read-timeout \(KUBECOST_ASSETS_API_READ_TIMEOUT\)/,
      extra: STALL_TIMEOUT,
    },
    {
      what: 'a body that stalls midway',
      fault: {kind: 'stall-body', api: 'allocation'},
      message:
        /Kubecost Allocation API stopped sending its response for 2 s: GET .* \(while reading the response body\)/,
      hint: /raise --allocation-read-timeout/,
      extra: STALL_TIMEOUT,
    },
    {
      what: 'a plain-text 400',
      fault: {kind: 'text-400', api: 'allocation'},
      message: /returned HTTP 400 Bad Request for GET .*: error parsing window \(bogus\): illegal window/,
      hint: /Kubecost rejected the query/,
    },
    {
      what: 'a 200 that is not JSON',
      fault: {kind: 'not-json', api: 'allocation'},
      message: /with a body that is not JSON .*: <!DOCTYPE html><html><body>Kubecost login/,
      hint: /http vs https.*authenticating proxy/,
    },
    {
      what: 'truncated JSON',
      fault: {kind: 'truncate', api: 'allocation'},
      message: /Kubecost Allocation API response to GET .* was cut off: the JSON ends early/,
      hint: /closed before the response was complete/,
    },
    {
      what: 'an envelope with an error code',
      fault: {kind: 'error-envelope', api: 'allocation'},
      message: /answered GET .* with error code 500: Error: failed to query Prometheus/,
      hint: /Kubecost version/,
    },
    {
      what: 'a day the availability call reported that comes back empty',
      fault: {kind: 'empty-sets', api: 'allocation'},
      message: /Kubecost reported data for 2026-03-02 in the availability call, but GET .* returned no allocations/,
      hint: /next run will try it again/,
    },
  ]

  for (const {what, fault, message, hint, extra} of cases) {
    it(`${what}: exit 1, its own message and hint, no retry, no file`, async () => {
      await withFake(fault, async fake => {
        const outcome = await exportOnce(fake.url, extra)
        assert.equal(outcome.code, 1, outcome.stderr)
        assert.match(outcome.stderr, message)
        assert.match(outcome.stderr, hint)
        assert.equal(outcome.retries, 0)
        assert.equal(requestsTo(fake, fault.api ?? 'allocation'), 1)
        assert.deepEqual(outcome.files, [])
      })
    })
  }

  it('connection refused: exit 1, names the host, hints at the service name, no retry', async () => {
    const url = await refusedUrl()
    const outcome = await exportOnce(url)
    assert.equal(outcome.code, 1)
    assert.match(outcome.stderr, /Kubecost Allocation API connection refused by 127\.0\.0\.1:\d+/)
    assert.match(outcome.stderr, /Helm release prefix/)
    assert.equal(outcome.retries, 0)
  })
})

describe('transient failures are retried with back-off', () => {
  const transient: Array<[string, Fault, RegExp]> = [
    ['429', {kind: 'status', status: 429}, /HTTP 429/],
    ['499', {kind: 'status', status: 499}, /HTTP 499/],
    ['502', {kind: 'status', status: 502}, /HTTP 502/],
    ['503', {kind: 'status', status: 503}, /HTTP 503/],
    ['504 from a proxy', {kind: 'html-504'}, /HTTP 504/],
    ['a connection reset', {kind: 'reset'}, /connection to 127\.0\.0\.1:\d+ failed \((ECONNRESET|UND_ERR_SOCKET)\)/],
  ]

  for (const [what, fault, reason] of transient) {
    it(`${what}, once: retried, logged with its reason and delay, and the day is written`, async () => {
      await withFake({...fault, api: 'allocation', times: 1}, async fake => {
        const outcome = await exportOnce(fake.url)
        assert.equal(outcome.code, 0, outcome.stderr)
        assert.equal(outcome.retries, 1)
        assert.match(
          outcome.stderr,
          new RegExp(
            `Retrying Kubecost Allocation API GET \\S+ in \\d+\\.\\d\\d s \\(retry 1 of 2\\): .*${reason.source}`,
          ),
        )
        assert.equal(requestsTo(fake, 'allocation'), 2)
        assert.deepEqual(outcome.files, [KEY])
      })
    })
  }

  it('a persistent 503: the bounded number of attempts, then exit 1 with no file', async () => {
    await withFake({kind: 'status', status: 503, api: 'allocation'}, async fake => {
      const outcome = await exportOnce(fake.url)
      assert.equal(outcome.code, 1)
      assert.equal(outcome.retries, 2)
      assert.equal(requestsTo(fake, 'allocation'), 3)
      assert.match(outcome.stderr, /Giving up on Kubecost Allocation API GET .* after 3 attempts/)
      assert.match(outcome.stderr, /Failed to export 2026-03-02: Kubecost Allocation API returned HTTP 503/)
      assert.deepEqual(outcome.files, [])
    })
  })

  it('--retries 0 turns retries off', async () => {
    await withFake({kind: 'status', status: 503, api: 'availability'}, async fake => {
      const outcome = await exportOnce(fake.url, ['--retries', '0'])
      assert.equal(outcome.code, 1)
      assert.equal(outcome.retries, 0)
      assert.equal(requestsTo(fake, 'availability'), 1)
    })
  })

  it('a connection dropped mid-body: the day starts over and no row is written twice', async () => {
    await withFake({kind: 'reset-mid-body', api: 'allocation', times: 1}, async fake => {
      const outcome = await exportOnce(fake.url)
      assert.equal(outcome.code, 0, outcome.stderr)
      assert.equal(outcome.retries, 1)
      const {rows} = await readParquet(join(outcome.out, KEY))
      const expected = [...dayAllocations(DAY, fake.dataOptions)].map(a => a.name).sort()
      assert.deepEqual(rows.map(r => r.name as string).sort(), expected)
    })
  })

  it('a connect timeout is retried, then reported with the flag that raises it', async () => {
    // A TCP server that accepts and never completes a TLS handshake.
    const sockets = new Set<Socket>()
    let connections = 0
    const server: Server = createServer(socket => {
      connections++
      sockets.add(socket)
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    try {
      const {port} = server.address() as AddressInfo
      const outcome = await exportOnce(`https://127.0.0.1:${port}`, ['--connect-timeout', '0.3'])
      assert.equal(outcome.code, 1)
      assert.match(outcome.stderr, /Kubecost Allocation API connection to 127\.0\.0\.1:\d+ timed out after 0\.3 s/)
      assert.match(outcome.stderr, /raise --connect-timeout \(CONNECTION_TIMEOUT\)/)
      assert.equal(outcome.retries, 2)
      assert.equal(connections, 3)
    } finally {
      for (const socket of sockets) socket.destroy()
      server.close()
    }
  })
})

describe('TLS to Kubecost', () => {
  let fake: FakeKubecost
  const caFile = join(TLS_DIR, 'ca.pem')
  before(async () => {
    fake = await FakeKubecost.start({
      cluster: 'prod',
      days: [DAY],
      containersPerDay: 3,
      tls: {
        key: await readFile(join(TLS_DIR, 'server.key'), 'utf8'),
        cert: await readFile(join(TLS_DIR, 'server.pem'), 'utf8'),
      },
    })
  })
  after(async () => fake.close())

  it('is verified against the system roots by default, and fails with the CA hint', async () => {
    const outcome = await exportOnce(fake.url)
    assert.equal(outcome.code, 1)
    assert.match(
      outcome.stderr,
      /Kubecost Allocation API TLS handshake with 127\.0\.0\.1:\d+ failed \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\)/,
    )
    assert.match(outcome.stderr, /--ca-cert-file or --ca-cert-secret, or \(for testing only\) pass --no-tls-verify/)
    assert.equal(outcome.retries, 0)
  })

  it('reached with http://: exit 1 at once, named as a TLS port with the https:// URL to use, no retry', async () => {
    const outcome = await exportOnce(fake.url.replace(/^https:/, 'http:'), ['--ca-cert-file', caFile])
    assert.equal(outcome.code, 1, outcome.stderr)
    assert.match(
      outcome.stderr,
      /Kubecost Allocation API connection to 127\.0\.0\.1:\d+ failed: the port speaks TLS and the request was plain HTTP/,
    )
    assert.ok(
      outcome.stderr.includes(`The port speaks TLS: use ${fake.url} in --kubecost-url (KUBECOST_API_ENDPOINT)`),
      outcome.stderr,
    )
    assert.doesNotMatch(outcome.stderr, /health/)
    assert.equal(outcome.retries, 0)
  })

  it('reached through an https:// URL on its plain-HTTP twin: the http:// base URL, no API path', async () => {
    const plain = await FakeKubecost.start({cluster: 'prod', days: [DAY]})
    try {
      const outcome = await exportOnce(`${plain.url.replace(/^http:/, 'https:')}/`)
      assert.equal(outcome.code, 1, outcome.stderr)
      assert.ok(
        outcome.stderr.includes(
          `The port answers plain HTTP: use ${plain.url} in --kubecost-url (KUBECOST_API_ENDPOINT).`,
        ),
        outcome.stderr,
      )
      assert.equal(outcome.retries, 0)
    } finally {
      await plain.close()
    }
  })

  it('offering only TLS 1.1: exit 1 naming the old TLS version and what to change, no retry', async () => {
    const old = await FakeKubecost.start({
      cluster: 'prod',
      days: [DAY],
      tls: {
        key: await readFile(join(TLS_DIR, 'server.key'), 'utf8'),
        cert: await readFile(join(TLS_DIR, 'server.pem'), 'utf8'),
        minVersion: 'TLSv1.1',
        maxVersion: 'TLSv1.1',
        ciphers: 'DEFAULT@SECLEVEL=0',
      },
    })
    try {
      const outcome = await exportOnce(old.url, ['--ca-cert-file', caFile])
      assert.equal(outcome.code, 1, outcome.stderr)
      assert.match(
        outcome.stderr,
        /TLS handshake with 127\.0\.0\.1:\d+ failed: the server offers only a TLS version older than 1\.2, the oldest Node\.js accepts \(ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION\)/,
      )
      assert.match(outcome.stderr, /Enable TLS 1\.2 or 1\.3 on Kubecost's server, or on the proxy or ingress/)
      assert.doesNotMatch(outcome.stderr, /EPROTO|health/)
      assert.equal(outcome.retries, 0)
    } finally {
      await old.close()
    }
  })

  it('is accepted with the private CA from --ca-cert-file', async () => {
    const outcome = await exportOnce(fake.url, ['--ca-cert-file', caFile])
    assert.equal(outcome.code, 0, outcome.stderr)
    assert.deepEqual(outcome.files, [KEY])
    assert.ok(!outcome.stderr.includes('BEGIN CERTIFICATE'))
  })

  it('is accepted with the CA from KUBECOST_CA_CERTIFICATE_FILE', async () => {
    const outcome = await exportOnce(fake.url, [], {KUBECOST_CA_CERTIFICATE_FILE: caFile})
    assert.equal(outcome.code, 0, outcome.stderr)
  })

  it('is rejected with an unrelated CA', async () => {
    const outcome = await exportOnce(fake.url, ['--ca-cert-file', join(TLS_DIR, 'other-ca.pem')])
    assert.equal(outcome.code, 1)
    assert.match(outcome.stderr, /TLS handshake/)
  })

  it('is accepted with --no-tls-verify, with a warning', async () => {
    const outcome = await exportOnce(fake.url, ['--no-tls-verify'])
    assert.equal(outcome.code, 0, outcome.stderr)
    assert.match(outcome.stderr, /WARNING kubecost-s3-exporter: TLS certificate verification for Kubecost is off/)
  })

  it('is accepted with TLS_VERIFY=No from the environment', async () => {
    const outcome = await exportOnce(fake.url, [], {TLS_VERIFY: 'No'})
    assert.equal(outcome.code, 0, outcome.stderr)
  })

  it('refuses a TLS_VERIFY that is not a boolean', async () => {
    const outcome = await exportOnce(fake.url, [], {TLS_VERIFY: 'sometimes'})
    assert.equal(outcome.code, 2)
    assert.match(outcome.stderr, /Invalid --tls-verify \(TLS_VERIFY\) "sometimes": must be true or false/)
  })

  it('refuses a CA file that is missing or holds no certificate, exit 2', async () => {
    const missing = await exportOnce(fake.url, ['--ca-cert-file', '/nonexistent/ca.pem'])
    assert.equal(missing.code, 2)
    assert.match(
      missing.stderr,
      /Invalid --ca-cert-file \(KUBECOST_CA_CERTIFICATE_FILE\) "\/nonexistent\/ca.pem": cannot be read \(ENOENT\)/,
    )
    const notPem = await exportOnce(fake.url, ['--ca-cert-file', join(TLS_DIR, 'README.md')])
    assert.equal(notPem.code, 2)
    assert.match(notPem.stderr, /holds no PEM certificate/)
  })
})
