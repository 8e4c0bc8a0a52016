/**
 * A slow, broken or hostile Kubecost, driven through the real CLI against the fake Kubecost over
 * real HTTP/HTTPS: answers that never end, bodies that lie about their encoding or size, text made
 * to forge log lines or drive the terminal, and redirects away from Kubecost. For each: exit code,
 * message and hint, no retry where none is due, nothing at a final key, and bounded time and memory.
 */
import assert from 'node:assert/strict'
import {readFile, writeFile} from 'node:fs/promises'
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
const MIB = 1024 * 1024
/**
 * Short retry delays; timeouts that a busy machine never reaches (it can delay a timer by a quarter
 * of a second, and parsing a large entry holds the reading back), so that only the fault ends a call.
 */
const FAST: Record<string, string> = {
  '--retries': '2',
  '--retry-delay': '0.01',
  '--connect-timeout': '10',
  '--allocation-read-timeout': '30',
  '--assets-read-timeout': '30',
}

// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/

interface Outcome {
  code: number
  stderr: string
  files: string[]
  retries: number
  out: string
  seconds: number
  /** CPU time the CLI process used, all its threads: unlike `seconds`, much the same on a busy machine. */
  cpuSeconds: number
  /** The CLI process's peak RSS, from the OS. */
  peakRssMb: number
}

let scratch: {path: string; remove(): Promise<void>}
let rssHook: string
const outputs: Array<{remove(): Promise<void>}> = []

before(async () => {
  scratch = await tempDir('kubecost-cid-hostile-')
  // Loaded into the CLI process: reports its peak RSS and CPU time on the way out, on a line of its own.
  rssHook = join(scratch.path, 'usage.mjs')
  await writeFile(
    rssHook,
    "process.on('exit', () => { const u = process.resourceUsage(); process.stderr.write(`\\nusage=${u.maxRSS} ${u.userCPUTime + u.systemCPUTime}\\n`) })\n",
  )
})

after(async () => {
  await Promise.all(outputs.map(o => o.remove()))
  await scratch.remove()
})

async function exportOnce(url: string, extra: string[] = [], env: Record<string, string> = {}): Promise<Outcome> {
  const out = await tempDir()
  outputs.push(out)
  const fast = Object.entries(FAST)
    .filter(([flag]) => !extra.includes(flag))
    .flat()
  const started = performance.now()
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
      ...fast,
      ...extra,
    ],
    {NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${rssHook}`, ...env},
  )
  const seconds = (performance.now() - started) / 1000
  const usage = /\nusage=(\d+) (\d+)\n/.exec(result.stderr)
  const stderr = result.stderr.replace(/\nusage=\d+ \d+\n/, '')
  return {
    code: result.code,
    stderr,
    files: await listFiles(out.path),
    retries: stderr.split('\n').filter(l => l.includes('Retrying Kubecost')).length,
    out: out.path,
    seconds,
    cpuSeconds: usage ? Number(usage[2]) / 1e6 : Number.NaN,
    peakRssMb: usage ? Number(usage[1]) / 1024 : Number.NaN,
  }
}

const figures = (outcome: Outcome) =>
  `${outcome.seconds.toFixed(1)} s, ${outcome.cpuSeconds.toFixed(1)} s of CPU, peak RSS ${outcome.peakRssMb.toFixed(0)} MB`

async function withFake(
  faults: Fault[],
  run: (fake: FakeKubecost) => Promise<void>,
  containersPerDay = 6,
): Promise<void> {
  const fake = await FakeKubecost.start({cluster: 'prod', days: [DAY], containersPerDay})
  for (const fault of faults) fake.addFault(fault)
  try {
    await run(fake)
  } finally {
    await fake.close()
  }
}

const requestsTo = (fake: FakeKubecost, api: string) => fake.requests.filter(r => r.api === api).length

describe('a Kubecost answer that trickles without end', () => {
  const cases = [
    {
      api: 'allocation',
      name: 'Allocation',
      path: 'allocation\\?window=2026-03-02',
      flag: '--allocation-deadline',
      env: 'KUBECOST_ALLOCATION_API_DEADLINE',
    },
    {
      api: 'availability',
      name: 'Allocation',
      path: 'allocation\\?window=2026-03-02\\S*&aggregate=cluster&',
      flag: '--allocation-deadline',
      env: 'KUBECOST_ALLOCATION_API_DEADLINE',
    },
    {
      api: 'assets',
      name: 'Assets',
      path: 'assets\\?window=2026-03-02',
      flag: '--assets-deadline',
      env: 'KUBECOST_ASSETS_API_DEADLINE',
    },
  ] as const

  for (const {api, name, path, flag, env} of cases) {
    // Without a deadline this would run for as long as the fake trickles: fail it instead of hanging.
    it(
      `on the ${api} call: stopped at ${flag}, reported with the bytes received, not retried, nothing written`,
      {timeout: 60_000},
      async () => {
        await withFake([{kind: 'trickle', api, intervalMs: 20}], async fake => {
          // The read timeout (30 s) is far longer than the deadline: only the deadline can end it.
          const outcome = await exportOnce(fake.url, [flag, '1.5'])
          assert.equal(outcome.code, 1, outcome.stderr)
          const message = new RegExp(
            `Kubecost ${name} API call did not complete within its 1\\.5 s deadline \\((\\d+) bytes of the response received\\): GET http://127\\.0\\.0\\.1:\\d+/model/${path}`,
          )
          assert.match(outcome.stderr, message)
          const received = Number(message.exec(outcome.stderr)?.[1])
          assert.ok(received > 34, `received ${received}`)
          assert.match(outcome.stderr, new RegExp(`if the day is merely large, raise ${flag} \\(${env}\\)`))
          assert.equal(outcome.retries, 0)
          assert.equal(requestsTo(fake, api), 1)
          assert.deepEqual(outcome.files, [])
        })
      },
    )
  }

  it('takes the deadline from the environment variable too', async () => {
    await withFake([{kind: 'trickle', api: 'assets', intervalMs: 20}], async fake => {
      const outcome = await exportOnce(fake.url, [], {KUBECOST_ASSETS_API_DEADLINE: '1'})
      assert.equal(outcome.code, 1, outcome.stderr)
      assert.match(outcome.stderr, /Kubecost Assets API call did not complete within its 1 s deadline/)
    })
  })

  it('refuses a deadline that is not a number of seconds, exit 2', async () => {
    const outcome = await exportOnce(await refusedUrl(), ['--allocation-deadline', 'soon'])
    assert.equal(outcome.code, 2)
    assert.match(
      outcome.stderr,
      /Invalid --allocation-deadline \(KUBECOST_ALLOCATION_API_DEADLINE\) "soon": must be a number of seconds greater than 0/,
    )
  })
})

describe('bodies that are not what they claim', () => {
  it('a body labelled gzip that is not: a bad response, not a connection failure, not retried', async () => {
    await withFake([{kind: 'gzip-garbage', api: 'allocation'}], async fake => {
      const outcome = await exportOnce(fake.url)
      assert.equal(outcome.code, 1, outcome.stderr)
      assert.match(
        outcome.stderr,
        /Kubecost Allocation API answered GET http:\/\/127\.0\.0\.1:\d+\/model\/allocation\?\S+ with a body that could not be decompressed \(content-encoding gzip: Z_DATA_ERROR\)/,
      )
      assert.match(outcome.stderr, /labelled compressed but is not/)
      assert.doesNotMatch(outcome.stderr, /connection to 127\.0\.0\.1/)
      assert.equal(outcome.retries, 0)
      assert.equal(requestsTo(fake, 'allocation'), 1)
      assert.deepEqual(outcome.files, [])
    })
  })

  it('asks Kubecost for an uncompressed body', async () => {
    const fake = await FakeKubecost.start({cluster: 'prod', days: [DAY], containersPerDay: 2})
    const seen: Array<string | undefined> = []
    // The fake records no headers but authorization: look at the wire through a proxy of one line.
    const {createServer, request} = await import('node:http')
    const proxy = createServer((req, res) => {
      seen.push(req.headers['accept-encoding'])
      const upstream = request(new URL(req.url ?? '/', fake.url), {headers: req.headers}, answer => {
        res.writeHead(answer.statusCode ?? 500, answer.headers)
        answer.pipe(res)
      })
      req.pipe(upstream)
    })
    await new Promise<void>(resolve => proxy.listen(0, '127.0.0.1', resolve))
    try {
      const {port} = proxy.address() as {port: number}
      const outcome = await exportOnce(`http://127.0.0.1:${port}`)
      assert.equal(outcome.code, 0, outcome.stderr)
      assert.ok(seen.length >= 3)
      assert.ok(
        seen.every(e => e === 'identity'),
        JSON.stringify(seen),
      )
    } finally {
      proxy.closeAllConnections()
      proxy.close()
      await fake.close()
    }
  })

  it('a gzip bomb (100 KB expanding to 100 MiB in one entry) stops at the entry cap, in bounded time and memory', async () => {
    await withFake([{kind: 'gzip-bomb', api: 'allocation', size: 100 * MIB}], async fake => {
      const outcome = await exportOnce(fake.url)
      assert.equal(outcome.code, 1, outcome.stderr)
      assert.match(
        outcome.stderr,
        /Kubecost Allocation API entry "bomb" at byte 28 of the response to GET \S+ is larger than the 64 MiB limit on one entry/,
      )
      assert.match(outcome.stderr, /raise --max-entry-mb \(KUBECOST_API_MAX_ENTRY_MB\)/)
      assert.equal(outcome.retries, 0)
      assert.deepEqual(outcome.files, [])
      assert.ok(outcome.cpuSeconds < 20, `took ${outcome.cpuSeconds.toFixed(1)} s of CPU`)
      assert.ok(outcome.peakRssMb < 350, `peak RSS ${outcome.peakRssMb.toFixed(0)} MB`)
      if (process.env.KUBECOST_CID_TEST_FIGURES) console.error(`gzip bomb: ${figures(outcome)}`)
    })
  })

  it('an entry of 64 MiB + 1 byte fails the day, naming the entry, its offset and the flag', async () => {
    await withFake([{kind: 'huge-entry', api: 'allocation', size: 64 * MIB + 1}], async fake => {
      const [first] = dayAllocations(DAY, fake.dataOptions)
      const outcome = await exportOnce(fake.url)
      assert.equal(outcome.code, 1, outcome.stderr)
      const offset = '{"code":200,"data":[{'.length + JSON.stringify(first?.name).length + 1
      assert.ok(
        outcome.stderr.includes(
          `Kubecost Allocation API entry "${first?.name}" at byte ${offset} of the response to GET `,
        ),
        outcome.stderr,
      )
      assert.match(outcome.stderr, /is larger than the 64 MiB limit on one entry/)
      assert.equal(outcome.retries, 0)
      assert.deepEqual(outcome.files, [])
      assert.ok(outcome.peakRssMb < 400, `peak RSS ${outcome.peakRssMb.toFixed(0)} MB`)
      if (process.env.KUBECOST_CID_TEST_FIGURES) console.error(`64 MiB + 1 entry: ${figures(outcome)}`)
    })
  })

  it('a 60 MiB entry under the cap is written, in bounded time and memory', async () => {
    await withFake([{kind: 'huge-entry', api: 'allocation', size: 60 * MIB}], async fake => {
      const outcome = await exportOnce(fake.url)
      assert.equal(outcome.code, 0, outcome.stderr)
      const {rows} = await readParquet(join(outcome.out, KEY))
      assert.equal(rows.length, [...dayAllocations(DAY, fake.dataOptions)].length)
      // Re-copying the unfinished entry per chunk took 17 s for 48 MiB, and grows with the square of the size.
      assert.ok(outcome.cpuSeconds < 10, `took ${outcome.cpuSeconds.toFixed(1)} s of CPU`)
      if (process.env.KUBECOST_CID_TEST_FIGURES) console.error(`60 MiB entry: ${figures(outcome)}`)
      assert.ok(outcome.peakRssMb < 500, `peak RSS ${outcome.peakRssMb.toFixed(0)} MB`)
    })
  })

  it('--max-entry-mb and KUBECOST_API_MAX_ENTRY_MB lower the entry cap', async () => {
    await withFake([{kind: 'huge-entry', api: 'assets', size: 2 * MIB}], async fake => {
      const byFlag = await exportOnce(fake.url, ['--max-entry-mb', '1'])
      assert.equal(byFlag.code, 1, byFlag.stderr)
      assert.match(
        byFlag.stderr,
        /Kubecost Assets API entry "[^"]+" at byte \d+ of the response to GET \S+\/model\/assets\?\S+ is larger than the 1 MiB limit on one entry/,
      )
      const byEnv = await exportOnce(fake.url, [], {KUBECOST_API_MAX_ENTRY_MB: '1'})
      assert.equal(byEnv.code, 1, byEnv.stderr)
      assert.match(byEnv.stderr, /larger than the 1 MiB limit on one entry/)
      const bad = await exportOnce(fake.url, ['--max-entry-mb', '0'])
      assert.equal(bad.code, 2)
      assert.match(
        bad.stderr,
        /Invalid --max-entry-mb \(KUBECOST_API_MAX_ENTRY_MB\) "0": must be a whole number greater than 0/,
      )
    })
  })

  it('--max-response-mb caps one response, named with its flag', async () => {
    await withFake(
      [{kind: 'huge-entry', api: 'allocation', size: MIB / 2}],
      async fake => {
        const outcome = await exportOnce(fake.url, ['--max-response-mb', '1'])
        // Half a MiB of entry and 2,000 ordinary allocations: over 1 MiB in all.
        assert.equal(outcome.code, 1, outcome.stderr)
        assert.match(
          outcome.stderr,
          /Kubecost Allocation API response to GET \S+ is larger than the 1 MiB limit on one response/,
        )
        assert.match(outcome.stderr, /raise --max-response-mb \(KUBECOST_API_MAX_RESPONSE_MB\)/)
        assert.equal(outcome.retries, 0)
        assert.deepEqual(outcome.files, [])
      },
      2000,
    )
  })
})

describe('outside text never reaches stderr raw', () => {
  it('an entry whose JSON.parse error would quote a forged log line', async () => {
    // V8 answers `Unexpected token '\n', "{"x":t\nERROR pwned…" is not valid JSON`, quoting the newline raw.
    const body = '{"code":200,"data":[{"a/b/c":{"x":t\n2026-03-05T10:30:00.000Z ERROR kubecost-s3-exporter: pwned\n}}]}'
    await withFake([{kind: 'raw', api: 'allocation', status: 200, reason: 'OK', body}], async fake => {
      const outcome = await exportOnce(fake.url)
      assert.equal(outcome.code, 1, outcome.stderr)
      assert.match(outcome.stderr, /with JSON of an unexpected shape \(invalid JSON near byte \d+/)
      // The preview may show the text, escaped and inside the one real line; never as a line of its own.
      assert.doesNotMatch(outcome.stderr, /^2026-03-05T10:30:00\.000Z ERROR/m)
      for (const line of outcome.stderr.split('\n').filter(Boolean)) {
        assert.match(line, /^(\d{4}-\d\d-\d\dT\S+ (INFO|WARNING|ERROR) kubecost-s3-exporter: |Error: |Try: )/, line)
      }
    })
  })

  const hostile = 'boom \u001b[2J\u001b]0;owned\u0007 \u0085 next'
  const escaped = /boom \\x1b\[2J\\x1b\]0;owned\\x07 \\u0085 next/
  const cases: Array<{what: string; fault: Fault; message: RegExp}> = [
    {
      what: 'ESC, BEL and NEL in an error body preview',
      fault: {kind: 'raw', api: 'allocation', status: 500, reason: 'Internal Server Error', body: hostile},
      message: /returned HTTP 500 Internal Server Error for GET \S+: /,
    },
    {
      what: 'ESC, BEL and NEL in a code: 500 message',
      fault: {
        kind: 'error-envelope',
        api: 'allocation',
        message: `${hostile}\n2026-03-05T10:30:00.000Z ERROR kubecost-s3-exporter: pwned`,
      },
      message: /answered GET \S+ with error code 500: /,
    },
    {
      what: 'ESC, BEL and NEL in an HTTP reason phrase',
      fault: {kind: 'raw', api: 'allocation', status: 500, reason: hostile, body: 'x'},
      message: /returned HTTP 500 /,
    },
  ]

  for (const {what, fault, message} of cases) {
    it(`${what}: escaped, on one line`, async () => {
      await withFake([fault], async fake => {
        const outcome = await exportOnce(fake.url)
        assert.equal(outcome.code, 1, outcome.stderr)
        assert.match(outcome.stderr, message)
        assert.match(outcome.stderr, escaped)
        assert.doesNotMatch(outcome.stderr, RAW_CONTROL)
        assert.doesNotMatch(outcome.stderr, /^\S+ ERROR kubecost-s3-exporter: pwned/m)
        assert.deepEqual(outcome.files, [])
      })
    })
  }

  it('a preview is capped', async () => {
    await withFake([{kind: 'raw', api: 'allocation', status: 500, body: 'z'.repeat(100_000)}], async fake => {
      const outcome = await exportOnce(fake.url)
      assert.equal(outcome.code, 1)
      assert.match(outcome.stderr, /: z{200}…/)
      assert.doesNotMatch(outcome.stderr, /z{201}/)
    })
  })
})

describe('redirects', () => {
  it("within Kubecost's origin are followed, with the credentials", async () => {
    await withFake(
      [{kind: 'redirect', api: 'allocation', status: 307, location: '/moved{path}', times: 1}],
      async fake => {
        const url = new URL(fake.url)
        url.username = 'admin'
        url.password = 's3cret'
        const outcome = await exportOnce(url.toString())
        assert.equal(outcome.code, 0, outcome.stderr)
        assert.deepEqual(outcome.files, [KEY])
        const moved = fake.requests.filter(r => r.path === '/moved/model/allocation')
        assert.equal(moved.length, 1)
        assert.equal(moved[0]?.authorization, `Basic ${Buffer.from('admin:s3cret').toString('base64')}`)
      },
    )
  })

  it('to another origin are refused, naming the Location without its credentials', async () => {
    const elsewhere = await FakeKubecost.start({cluster: 'prod', days: [DAY]})
    try {
      const location = `${elsewhere.url.replace('//', '//user:TOKEN@')}{path}`
      await withFake([{kind: 'redirect', api: 'allocation', location}], async fake => {
        const outcome = await exportOnce(fake.url)
        assert.equal(outcome.code, 1, outcome.stderr)
        const port = new URL(elsewhere.url).port
        assert.match(
          outcome.stderr,
          new RegExp(
            `Kubecost Allocation API redirected GET http://127\\.0\\.0\\.1:\\d+/model/allocation\\?\\S+ to http://127\\.0\\.0\\.1:${port}/model/allocation\\?\\S+, another origin \\(http://127\\.0\\.0\\.1:${port}\\): not followed`,
          ),
        )
        assert.match(
          outcome.stderr,
          /Set --kubecost-url \(KUBECOST_API_ENDPOINT\) to the address that answers directly/,
        )
        assert.ok(!outcome.stderr.includes('TOKEN'), outcome.stderr)
        assert.equal(outcome.retries, 0)
        assert.equal(elsewhere.requests.length, 0)
        assert.deepEqual(outcome.files, [])
      })
    } finally {
      await elsewhere.close()
    }
  })

  it('from https to plain http are refused', async () => {
    const plain = await FakeKubecost.start({cluster: 'prod', days: [DAY]})
    const secure = await FakeKubecost.start({
      cluster: 'prod',
      days: [DAY],
      tls: {
        key: await readFile(join(TLS_DIR, 'server.key'), 'utf8'),
        cert: await readFile(join(TLS_DIR, 'server.pem'), 'utf8'),
      },
    })
    secure.addFault({kind: 'redirect', api: 'availability', status: 301, location: `${plain.url}{path}`})
    try {
      const outcome = await exportOnce(secure.url, ['--ca-cert-file', join(TLS_DIR, 'ca.pem')])
      assert.equal(outcome.code, 1, outcome.stderr)
      assert.match(
        outcome.stderr,
        /Kubecost Allocation API redirected GET https:\/\/127\.0\.0\.1:\d+\/model\/allocation\?\S+ to http:\/\/127\.0\.0\.1:\d+\/\S+, plain http \(a downgrade from https\): not followed/,
      )
      assert.equal(plain.requests.length, 0)
      assert.deepEqual(outcome.files, [])
    } finally {
      await secure.close()
      await plain.close()
    }
  })

  it('in a loop are followed a bounded number of times', async () => {
    await withFake([{kind: 'redirect', api: 'availability', location: '{path}'}], async fake => {
      const outcome = await exportOnce(fake.url)
      assert.equal(outcome.code, 1, outcome.stderr)
      assert.match(
        outcome.stderr,
        /Kubecost Allocation API redirected GET \S+ more than 5 times \(last to http:\/\/127\.0\.0\.1:\d+\/model\/allocation\?\S+\)/,
      )
      assert.equal(requestsTo(fake, 'availability'), 6)
    })
  })
})
