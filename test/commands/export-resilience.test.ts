/**
 * What a CronJob meets sooner or later besides a failing Kubecost: a full, read-only or missing work
 * directory, stale work directories of killed runs, broken answers (a key twice, a number out of
 * range) and a very large assets answer. Each through the real CLI over real HTTP, asserting the exit
 * code, the message, that nothing is left at a final key and that no work directory is left behind.
 */
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {mkdir, readFile, readdir, utimes, writeFile} from 'node:fs/promises'
import {type Server, createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {dayAllocations} from '../fakes/kubecost-data.js'
import {FakeKubecost} from '../fakes/kubecost-server.js'
import {BIN, type CliResult, listFiles, runCli, tempDir} from '../helpers.js'
import {ARN, DAYS, NOW, exportArgs, keyOf} from './two-day-export.js'

/** Whether this machine lets a test mount a small tmpfs in a mount namespace of its own (root, util-linux). */
const canMount =
  process.getuid?.() === 0 &&
  spawnSync('unshare', ['--mount', 'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs /mnt && umount /mnt'], {
    stdio: 'ignore',
  }).status === 0

/**
 * Runs the CLI with TMPDIR on a tmpfs of `size` (mounted read-only when asked, or filled up first),
 * in a mount namespace of its own; reports what was left on the tmpfs after the run.
 */
function runOnTmpfs(
  args: string[],
  env: Record<string, string>,
  tmpfs: {size: string; readOnly?: boolean; fill?: boolean},
): Promise<CliResult & {left: string}> {
  const script = [
    'set -u',
    `mount -t tmpfs -o size=${tmpfs.size}${tmpfs.readOnly ? ',ro' : ''} tmpfs "$WORK"`,
    tmpfs.fill ? 'cat /dev/zero > "$WORK/filler" 2>/dev/null; true' : 'true',
    '"$NODE" "$BIN" "$@"; code=$?',
    'ls -A "$WORK" | grep -v "^filler$" > "$LEFT"',
    'exit $code',
  ].join('\n')
  return tempDir().then(async dir => {
    const work = join(dir.path, 'work')
    await mkdir(work)
    const leftFile = join(dir.path, 'left')
    const result = await runCli(args, {...env, TMPDIR: work, WORK: work, LEFT: leftFile, NODE: process.execPath, BIN}, [
      'unshare',
      '--mount',
      'sh',
      '-c',
      script,
      'sh',
    ])
    const left = await readFile(leftFile, 'utf8').catch(() => '?')
    await dir.remove()
    return {...result, left: left.trim()}
  })
}

describe('local I/O failures', () => {
  let fake: FakeKubecost
  before(async () => {
    // Enough rows that a day's file outgrows a 64 KiB tmpfs.
    fake = await FakeKubecost.start({cluster: 'prod', days: DAYS, containersPerDay: 2000})
  })
  after(() => fake.close())

  it(
    'a full work directory fails each day as a local error naming the path, never retried as a Kubecost failure; the run goes on to the summary',
    {skip: !canMount && 'needs root and unshare to mount a tmpfs'},
    async () => {
      const out = await tempDir()
      try {
        const before = fake.requests.length
        const result = await runOnTmpfs(exportArgs(fake.url, out.path), {}, {size: '64k'})
        assert.equal(result.code, 1, result.stderr)
        const failures = result.stderr.split('\n').filter(l => l.includes('Failed to export'))
        assert.equal(failures.length, 2, result.stderr)
        for (const line of failures) {
          assert.match(
            line,
            /Could not write \/\S+\/kubecost-cid-\w{6}\/2026-03-0[12]\.parquet \(ENOSPC: no space left on the device\)/,
          )
          assert.match(
            line,
            /Try: Free space in the work directory \(TMPDIR; in the CronJob, the emptyDir mounted at \/tmp\).*sizeLimit/,
          )
          assert.match(line, /had reached \d+\.\d MB when it failed/)
        }

        assert.doesNotMatch(result.stderr, /Kubecost Allocation API connection|Retrying/)
        assert.match(result.stderr, /Summary: 0 written, 2 failed/)
        // One allocation query per day: a full disk is not retried.
        const allocationCalls = fake.requests.slice(before).filter(r => r.api === 'allocation').length
        assert.equal(allocationCalls, 2)
        assert.equal(result.left, '', 'no work directory is left')
        assert.deepEqual(await listFiles(out.path), [])
      } finally {
        await out.remove()
      }
    },
  )

  it(
    'an already full work directory: every line JSON under --log-format json, and one JSON result under --json',
    {skip: !canMount && 'needs root and unshare to mount a tmpfs'},
    async () => {
      const out = await tempDir()
      try {
        const logs = await runOnTmpfs(
          exportArgs(fake.url, out.path, ['--log-format', 'json']),
          {},
          {size: '64k', fill: true},
        )
        assert.equal(logs.code, 1, logs.stderr)
        const lines = logs.stderr
          .trim()
          .split('\n')
          .map(l => JSON.parse(l) as {level: string; message: string; code?: string})
        const failed = lines.filter(l => l.message.startsWith('Failed to export'))
        assert.equal(failed.length, 2, logs.stderr)
        assert.ok(
          failed.every(l => l.code === 'LOCAL_IO' && /ENOSPC/.test(l.message)),
          JSON.stringify(failed),
        )

        const json = await runOnTmpfs(exportArgs(fake.url, out.path, ['--json']), {}, {size: '64k', fill: true})
        assert.equal(json.code, 1)
        const {error, result} = JSON.parse(json.stdout) as {
          error: {code: string}
          result: {failed: number; outcomes: Array<{status: string; code: string; error: string}>}
        }
        assert.equal(error.code, 'PARTIAL_FAILURE')
        assert.equal(result.failed, 2)
        assert.ok(
          result.outcomes.every(o => o.status === 'failed' && o.code === 'LOCAL_IO' && o.error.includes('ENOSPC')),
        )
        assert.deepEqual(await listFiles(out.path), [])
      } finally {
        await out.remove()
      }
    },
  )

  it(
    'a read-only work directory: exit 1 naming it, and what to do',
    {skip: !canMount && 'needs root and unshare to mount a tmpfs'},
    async () => {
      const out = await tempDir()
      try {
        const result = await runOnTmpfs(exportArgs(fake.url, out.path), {}, {size: '64k', readOnly: true})
        assert.equal(result.code, 1, result.stderr)
        assert.match(
          result.stderr,
          /Error: Could not create the work directory in \/\S+\/work \(EROFS: the file system is read-only\)/,
        )
        assert.match(
          result.stderr,
          /Try: Point TMPDIR at a writable directory; with a read-only root file system, mount an emptyDir at \/tmp\./,
        )
        assert.deepEqual(await listFiles(out.path), [])
      } finally {
        await out.remove()
      }
    },
  )

  it('a missing work directory: exit 1 naming it, as JSON under --json', async () => {
    const out = await tempDir()
    try {
      const result = await runCli(exportArgs(fake.url, out.path, ['--json']), {
        TMPDIR: join(out.path, 'does-not-exist'),
      })
      assert.equal(result.code, 1, result.stderr)
      const {error} = JSON.parse(result.stdout) as {
        error: {code: string; message: string; exitCode: number; suggestions: string[]}
      }
      assert.equal(error.code, 'LOCAL_IO')
      assert.equal(error.exitCode, 1)
      assert.match(
        error.message,
        /^Could not create the work directory in \S+does-not-exist \(ENOENT: the directory does not exist\)$/,
      )
      assert.deepEqual(error.suggestions, ['Point TMPDIR at an existing, writable directory.'])
    } finally {
      await out.remove()
    }
  })
})

describe('stale work directories', () => {
  it('removes those of killed runs a day old, and nothing else', async () => {
    const fake = await FakeKubecost.start({cluster: 'prod', days: DAYS, containersPerDay: 2})
    const out = await tempDir()
    const work = await tempDir()
    try {
      const old = Date.now() / 1000 - 2 * 86_400
      for (const name of ['kubecost-cid-AbC123', 'kubecost-cid-fresh1', 'kubecost-cid-test-old', 'other-dir']) {
        await mkdir(join(work.path, name))
        await writeFile(join(work.path, name, '2026-01-01.parquet'), 'x')
        if (name !== 'kubecost-cid-fresh1') await utimes(join(work.path, name), old, old)
      }

      const result = await runCli(exportArgs(fake.url, out.path), {TMPDIR: work.path})
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stderr, /Removed 1 stale work directory left in \S+ by earlier runs that were killed/)
      assert.deepEqual((await readdir(work.path)).sort(), ['kubecost-cid-fresh1', 'kubecost-cid-test-old', 'other-dir'])
    } finally {
      await fake.close()
      await out.remove()
      await work.remove()
    }
  })
})

describe('answers that cannot be right', () => {
  const DAY = '2026-03-02'

  async function exportBody(body: string, extra: string[] = []): Promise<CliResult & {files: string[]}> {
    const dir = await tempDir()
    const file = join(dir.path, 'body.json')
    await writeFile(file, body)
    const fake = await FakeKubecost.start({cluster: 'prod', days: [DAY], allocationBodies: {[DAY]: file}})
    try {
      const result = await runCli([
        'export',
        '--cluster-arn',
        ARN,
        '--output-dir',
        join(dir.path, 'out'),
        '--kubecost-url',
        fake.url,
        '--backfill-days',
        '1',
        '--now',
        NOW,
        ...extra,
      ])
      return {...result, files: await listFiles(join(dir.path, 'out'))}
    } finally {
      await fake.close()
      await dir.remove()
    }
  }

  const allocations = [...dayAllocations(DAY, {cluster: 'prod', containers: 3})]
  const entry = (a: {name: string}, name = a.name) => `${JSON.stringify(name)}:${JSON.stringify(a)}`

  it('a key twice in one set is a warning naming it, and counted once', async () => {
    const [a, b, c] = allocations as unknown as [
      {name: string; totalCost: number},
      {name: string; totalCost: number},
      {name: string; totalCost: number},
    ]
    const body = `{"code":200,"data":[{${entry(a)},${entry(b)},${entry(a)},${entry(c)}}]}`
    const result = await exportBody(body, ['--json'])
    assert.equal(result.code, 0, result.stderr)
    assert.match(
      result.stderr,
      new RegExp(
        `WARNING kubecost-s3-exporter: Kubecost returned allocation ${JSON.stringify(a.name).replaceAll('/', '\\/')} twice for ${DAY}; counting it once`,
      ),
    )
    const outcome = (JSON.parse(result.stdout) as {outcomes: Array<{rows: number; totalCost: number}>}).outcomes[0]
    assert.equal(outcome?.rows, 3)
    assert.ok(Math.abs((outcome?.totalCost ?? 0) - (a.totalCost + b.totalCost + c.totalCost)) < 1e-9)
  })

  it('a number out of range (1e309) fails the day naming the allocation and the field', async () => {
    const [a] = allocations as unknown as [{name: string}]
    const body = `{"code":200,"data":[{${JSON.stringify(a.name)}:${JSON.stringify(a).replace(/"totalCost":[^,}]+/, '"totalCost":1e309')}}]}`
    const result = await exportBody(body)
    assert.equal(result.code, 1, result.stderr)
    assert.match(
      result.stderr,
      new RegExp(
        `Kubecost reported totalCost = Infinity for allocation ${JSON.stringify(a.name).replaceAll('/', '\\/')}, a number out of range; the day is not written`,
      ),
    )
    assert.doesNotMatch(result.stderr, /Retrying/)
    assert.deepEqual(result.files, [])
  })

  it('a day with more allocations than --max-rows-per-day fails, saying how to raise it', async () => {
    const body = `{"code":200,"data":[{${allocations.map(a => entry(a)).join(',')}}]}`
    const result = await exportBody(body, ['--max-rows-per-day', '2'])
    assert.equal(result.code, 1, result.stderr)
    assert.match(result.stderr, /Kubecost returned more than 2 allocations for 2026-03-02; the day is not written/)
    assert.match(result.stderr, /raise --max-rows-per-day \(MAX_ROWS_PER_DAY\)/)
    assert.deepEqual(result.files, [])
  })
})

describe('a very large assets answer', () => {
  const DAY = '2026-03-02'
  const NODES = 300_000
  let server: Server
  let url: string

  before(async () => {
    // 300,000 nodes with 30 labels each, in one assets answer; the allocations use a few of them.
    const labels = Object.fromEntries(Array.from({length: 30}, (_, i) => [`label_custom_label_${i}`, `value-${i}`]))
    const assetsBody = (() => {
      const parts: string[] = []
      for (let i = 0; i < NODES; i++) {
        const name = `ip-10-${i >> 16}-${(i >> 8) & 255}-${i & 255}.ec2.internal`
        parts.push(
          `${JSON.stringify(`AWS/111122223333/__undefined__/Compute/prod/Node/Kubernetes/i-${i.toString(16).padStart(8, '0')}/${name}`)}:${JSON.stringify(
            {
              type: 'Node',
              properties: {
                category: 'Compute',
                provider: 'AWS',
                cluster: 'prod',
                name,
                providerID: `i-${i.toString(16).padStart(8, '0')}`,
              },
              labels: {
                ...labels,
                label_node_kubernetes_io_instance_type: 'm5.large',
                label_topology_kubernetes_io_zone: 'us-east-1a',
              },
              nodeType: 'm5.large',
              totalCost: 2.3,
            },
          )}`,
        )
      }

      return Buffer.from(`{"code":200,"data":[{${parts.join(',')}}]}`)
    })()
    const allocations = [...dayAllocations(DAY, {cluster: 'prod', containers: 20})]
    server = createServer((req, res) => {
      const params = new URL(req.url ?? '/', 'http://x').searchParams
      res.writeHead(200, {'content-type': 'application/json'})
      if (req.url?.startsWith('/model/assets')) res.end(assetsBody)
      else if (params.get('aggregate') === 'cluster')
        res.end(JSON.stringify({code: 200, data: [{prod: allocations[0]}]}))
      else res.end(JSON.stringify({code: 200, data: [Object.fromEntries(allocations.map(a => [a.name, a]))]}))
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(() => new Promise<void>(resolve => server.close(() => resolve())))

  it('is indexed in bounded time and memory (the index keeps only what the rows read)', async () => {
    const out = await tempDir()
    try {
      const started = Date.now()
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
        ],
        {NODE_OPTIONS: `--import ${new URL('../fixtures/report-usage.mjs', import.meta.url).pathname}`},
      )
      const seconds = (Date.now() - started) / 1000
      assert.equal(result.code, 0, result.stderr)
      const rss = Number(/peak-rss-mb=(\d+)/.exec(result.stderr)?.[1])
      const cpu = Number(/cpu-seconds=([\d.]+)/.exec(result.stderr)?.[1])
      // Measured on an idle 2-core machine: 5–7 s and ~430 MB (~850 MB when the index kept every label).
      // With both cores taken by other work it took up to 125 s, but still about 9 s of CPU: the bound
      // on time is one on CPU time (npm test prints the figures).
      process.stdout.write(`# 300k-node assets answer: ${seconds.toFixed(1)} s, ${cpu} s of CPU, peak RSS ${rss} MB\n`)
      assert.ok(rss > 0 && rss < 700, `peak RSS ${rss} MB`)
      assert.ok(cpu > 0 && cpu < 40, `${cpu} s of CPU`)
      assert.deepEqual(await listFiles(out.path), [keyOf(DAY)])
    } finally {
      await out.remove()
    }
  })
})
