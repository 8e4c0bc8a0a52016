/**
 * The CLI as operators expect it: flag over environment, JSON everywhere under --log-format json,
 * bounds and warnings instead of silent changes, hints that are true, "did you mean", -h and version.
 */
import assert from 'node:assert/strict'
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {delimiter, dirname} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {FakeKubecost} from '../fakes/kubecost-server.js'
import {BIN, listFiles, refusedUrl, runCli, tempDir} from '../helpers.js'

const ARN = 'arn:aws:eks:us-east-1:111122223333:cluster/prod'
const NOW = '2026-03-05T10:30:00Z'
const DAY = '2026-03-02'

describe('the CLI as operators expect it', () => {
  let fake: FakeKubecost
  before(async () => {
    fake = await FakeKubecost.start({cluster: 'prod', days: [DAY], containersPerDay: 2})
  })
  after(() => fake.close())

  const base = (out: string) => [
    'export',
    '--cluster-arn',
    ARN,
    '--kubecost-url',
    fake.url,
    '--backfill-days',
    '1',
    '--now',
    NOW,
    '--output-dir',
    out,
  ]

  describe('flag over environment', () => {
    it('--output-dir on the command line wins over S3_BUCKET_NAME in the environment', async () => {
      const out = await tempDir()
      try {
        const result = await runCli(base(out.path), {S3_BUCKET_NAME: 'kubecost-data'})
        assert.equal(result.code, 0, result.stderr)
        assert.match(
          result.stderr,
          /--output-dir on the command line wins over S3_BUCKET_NAME "kubecost-data" in the environment/,
        )
        assert.equal((await listFiles(out.path)).length, 1)
      } finally {
        await out.remove()
      }
    })

    it('--bucket on the command line wins over OUTPUT_DIR in the environment', async () => {
      // No S3 is reachable: the run gets as far as listing the bucket, which proves the bucket was chosen.
      const result = await runCli(
        [
          'backfill-plan',
          '--cluster-arn',
          ARN,
          '--kubecost-url',
          fake.url,
          '--now',
          NOW,
          '--bucket',
          'kubecost-data',
          '--s3-endpoint',
          await refusedUrl(),
        ],
        {
          OUTPUT_DIR: '/tmp/never',
          AWS_ACCESS_KEY_ID: 'x',
          AWS_SECRET_ACCESS_KEY: 'y',
          AWS_REGION: 'us-east-1',
          S3_REQUEST_TIMEOUT: '1',
        },
      )
      assert.match(result.stderr, /--bucket on the command line wins over OUTPUT_DIR "\/tmp\/never" in the environment/)
      assert.match(result.stderr, /s3:\/\/kubecost-data/)
    })

    it('both as flags, or both in the environment, are a conflict (exit 2)', async () => {
      const flags = await runCli([...base('/tmp/x'), '--bucket', 'kubecost-data'])
      assert.equal(flags.code, 2)
      assert.match(
        flags.stderr,
        /Both --bucket \(S3_BUCKET_NAME\) "kubecost-data" and --output-dir \(OUTPUT_DIR\) "\/tmp\/x" are set/,
      )
      const env = await runCli(['export', '--cluster-arn', ARN, '--now', NOW], {
        S3_BUCKET_NAME: 'kubecost-data',
        OUTPUT_DIR: '/tmp/x',
      })
      assert.equal(env.code, 2)
      assert.match(env.stderr, /Both --bucket/)
    })
  })

  it('usage errors are JSON lines under LOG_FORMAT=json and --log-format json', async () => {
    for (const [args, env] of [
      [['export', '--cluster-arn', 'nope', '--output-dir', '/tmp/x'], {LOG_FORMAT: 'json'}],
      [['export', '--log-format', 'json', '--bogus'], {}],
      [['export', '--log-format=json', '--backfill-days', '401', '--cluster-arn', ARN, '--output-dir', '/tmp/x'], {}],
    ] as const) {
      const result = await runCli([...args], env)
      assert.equal(result.code, 2, result.stderr)
      const lines = result.stderr.trim().split('\n')
      assert.equal(lines.length, 1, result.stderr)
      const line = JSON.parse(lines[0] as string) as {level: string; exitCode: number; code: string}
      assert.equal(line.level, 'ERROR')
      assert.equal(line.exitCode, 2)
      assert.match(line.code, /^(INVALID_INPUT|USAGE)$/)
    }
  })

  describe('bounds and no silent changes', () => {
    it('--backfill-days is at most 400', async () => {
      const args = ['export', '--cluster-arn', ARN, '--output-dir', '/tmp/x', '--backfill-days']
      const result = await runCli([...args, '401'])
      assert.equal(result.code, 2)
      assert.match(
        result.stderr,
        /Invalid --backfill-days \(BACKFILL_PERIOD_DAYS\) "401": must be a whole number from 1 to 400/,
      )
      assert.equal((await runCli([...args, '0'])).code, 2)
      assert.equal(
        (await runCli(['export', '--cluster-arn', ARN, '--output-dir', '/tmp/x'], {BACKFILL_PERIOD_DAYS: '1000'})).code,
        2,
      )
    })

    it('--retries 0 is accepted as "no retries", and a bad value names the range', async () => {
      const out = await tempDir()
      try {
        assert.equal((await runCli([...base(out.path), '--retries', '0'])).code, 0)
        const bad = await runCli([...base(out.path), '--retries', '-1'])
        assert.equal(bad.code, 2)
        assert.match(bad.stderr, /Invalid --retries \(KUBECOST_API_RETRIES\) "-1": must be a whole number from 0 to 20/)
      } finally {
        await out.remove()
      }
    })

    it('warns when --to is capped at today-3 and when --from makes --backfill-days moot', async () => {
      const out = await tempDir()
      try {
        const result = await runCli([
          'backfill-plan',
          '--cluster-arn',
          ARN,
          '--kubecost-url',
          fake.url,
          '--now',
          NOW,
          '--output-dir',
          out.path,
          '--from',
          '2026-03-01',
          '--to',
          '2026-03-04',
          '--backfill-days',
          '7',
        ])
        assert.equal(result.code, 0, result.stderr)
        assert.match(
          result.stderr,
          /WARNING .*--to 2026-03-04 is after the newest collectable day; capped at 2026-03-02/,
        )
        assert.match(result.stderr, /WARNING .*--backfill-days 7 is ignored: --from 2026-03-01 gives the range/)
        const quiet = await runCli([
          'backfill-plan',
          '--cluster-arn',
          ARN,
          '--kubecost-url',
          fake.url,
          '--now',
          NOW,
          '--output-dir',
          out.path,
          '--from',
          '2026-03-01',
        ])
        assert.doesNotMatch(quiet.stderr, /WARNING/)
      } finally {
        await out.remove()
      }
    })
  })

  it('warns once when Kubecost names the cluster differently from the ARN, and keys the file by the ARN', async () => {
    const other = await FakeKubecost.start({cluster: 'kubecost-prod-1', days: [DAY], containersPerDay: 2})
    const out = await tempDir()
    try {
      const result = await runCli([
        'export',
        '--cluster-arn',
        ARN,
        '--kubecost-url',
        other.url,
        '--backfill-days',
        '1',
        '--now',
        NOW,
        '--output-dir',
        out.path,
      ])
      assert.equal(result.code, 0, result.stderr)
      const warnings = result.stderr.split('\n').filter(l => l.includes('Kubecost calls this cluster'))
      assert.equal(warnings.length, 1)
      assert.match(warnings[0] as string, /Kubecost calls this cluster "kubecost-prod-1", the cluster ARN "prod"/)
      assert.deepEqual(await listFiles(out.path), [
        `account_id=111122223333/region=us-east-1/year=2026/month=03/${DAY}_prod.snappy.parquet`,
      ])
    } finally {
      await other.close()
      await out.remove()
    }
  })

  it('the summary line carries its counts as JSON fields', async () => {
    const out = await tempDir()
    try {
      const result = await runCli([...base(out.path), '--log-format', 'json'])
      const summary = result.stderr
        .trim()
        .split('\n')
        .map(l => JSON.parse(l) as Record<string, unknown>)
        .find(l => String(l.message).startsWith('Summary:'))
      assert.deepEqual([summary?.written, summary?.failed, summary?.skipped, summary?.available], [1, 0, 0, 1])
    } finally {
      await out.remove()
    }
  })

  describe('hints that are true', () => {
    it('an https URL that reaches a plain-HTTP port suggests http://', async () => {
      const result = await runCli([
        ...base('/tmp/x').filter(a => a !== fake.url && a !== '--kubecost-url'),
        '--kubecost-url',
        fake.url.replace('http:', 'https:'),
        '--retries',
        '0',
      ])
      assert.equal(result.code, 1)
      assert.match(result.stderr, /TLS handshake with 127\.0\.0\.1:\d+ failed/)
      assert.match(
        result.stderr,
        /Try: The port answers plain HTTP: use http:\/\/127\.0\.0\.1:\d+ in --kubecost-url \(KUBECOST_API_ENDPOINT\)\./,
      )
    })

    it('a TLS failure with --ca-cert-file given says that CA did not verify the chain', async () => {
      const tls = new URL('../fixtures/tls/', import.meta.url).pathname
      const {readFile} = await import('node:fs/promises')
      const [key, cert] = await Promise.all([
        readFile(`${tls}server.key`, 'utf8'),
        readFile(`${tls}server.pem`, 'utf8'),
      ])
      const https = await FakeKubecost.start({cluster: 'prod', days: [DAY], tls: {key, cert}})
      try {
        // The server's own certificate as the "CA": it is not the CA that signed it.
        const result = await runCli([
          'export',
          '--cluster-arn',
          ARN,
          '--kubecost-url',
          https.url,
          '--backfill-days',
          '1',
          '--now',
          NOW,
          '--output-dir',
          '/tmp/x',
          '--ca-cert-file',
          `${tls}server.pem`,
          '--retries',
          '0',
        ])
        assert.equal(result.code, 1)
        assert.match(result.stderr, /TLS handshake/)
        assert.match(
          result.stderr,
          /Try: The certificate authority given with --ca-cert-file \/ --ca-cert-secret did not verify the server's chain/,
        )
        assert.doesNotMatch(result.stderr, /Trust Kubecost's certificate authority with --ca-cert-file/)
      } finally {
        await https.close()
      }
    })
  })

  describe('commands as operators know them', () => {
    it('suggests the closest command for a typo, exit 2', async () => {
      const result = await runCli(['exprot'])
      assert.equal(result.code, 2)
      assert.equal(
        result.stderr,
        'Error: exprot is not a kubecost-cid command. Did you mean export? Run kubecost-cid help for the list of commands.\n',
      )
      assert.doesNotMatch((await runCli(['zzzzzz'])).stderr, /Did you mean/)
    })

    it('-h is help, and --version and version name the runtime', async () => {
      const help = await runCli(['export', '-h'])
      assert.equal(help.code, 0)
      assert.match(help.stdout, /^Export the days Kubecost has/)
      for (const args of [['--version'], ['version']]) {
        const version = await runCli(args)
        assert.equal(version.code, 0)
        assert.match(version.stdout, /^kubecost-cid\/\d+\.\d+\.\d+ linux-\w+ node-v24\.\d+\.\d+/)
      }
    })

    it("starts Node.js as bin/run.js's shebang says: a 2 MB young generation, one V8 helper thread", async () => {
      const report = new URL('../fixtures/report-exec-argv.mjs', import.meta.url).pathname
      // Run as users and the image run it: the file itself, through its shebang, with this Node.js
      // first on the PATH (the machine's own may be older than engines.node, and then refused).
      const PATH = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`
      const result = await runCli(['--version'], {NODE_OPTIONS: `--import ${report}`, PATH}, [BIN])
      assert.equal(result.code, 0, result.stderr)
      const argv = JSON.parse(/^exec-argv=(.*)$/m.exec(result.stderr)?.[1] ?? '[]') as string[]
      assert.deepEqual(argv, ['--max-semi-space-size=2', '--v8-pool-size=1'])
    })

    it('a step waiting on something that does not hold the process open still ends with the summary, not exit 13', async () => {
      const out = await tempDir()
      try {
        // Every rm() of the run waits on an unref'd timer first: Node alone ends the process at the first.
        const unheld = new URL('../fixtures/unheld-rm.mjs', import.meta.url).pathname
        const result = await runCli(base(out.path), {NODE_OPTIONS: `--import ${unheld}`})
        assert.equal(result.code, 0, result.stderr)
        assert.match(result.stderr, /Summary: 1 written, 0 failed, 0 skipped/)
        assert.deepEqual(await listFiles(out.path), [
          `account_id=111122223333/region=us-east-1/year=2026/month=03/${DAY}_prod.snappy.parquet`,
        ])
      } finally {
        await out.remove()
      }
    })

    it('help text is not hard-wrapped mid-sentence: paragraphs reflow to the terminal', async () => {
      const wide = await runCli(['export', '--help'], {OCLIF_COLUMNS: '400'})
      assert.match(
        wide.stdout,
        /Runs daily as a Kubernetes CronJob in each EKS cluster\. Asks Kubecost which of the candidate days/,
      )
    })
  })
})

describe('a listener that is not Kubecost', () => {
  let server: ReturnType<typeof createServer>
  let url: string
  before(async () => {
    server = createServer((_, res) => res.writeHead(404).end('no'))
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(() => new Promise<void>(resolve => server.close(() => resolve())))

  it('gets a 404 hint about the URL', async () => {
    const result = await runCli([
      'export',
      '--cluster-arn',
      ARN,
      '--kubecost-url',
      url,
      '--now',
      NOW,
      '--output-dir',
      '/tmp/x',
    ])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /without \/model/)
  })
})
