/**
 * Stopping a run from outside: SIGTERM and SIGINT during a download and during an S3 upload, SIGTERM
 * to the CLI as PID 1 of its own PID namespace (a container without an init), and the run deadline.
 * Each asserts the exit code, one line naming the day, nothing at a final key, no work directory left,
 * and a prompt exit.
 */
import assert from 'node:assert/strict'
import {type ChildProcess, spawnSync} from 'node:child_process'
import {readdir} from 'node:fs/promises'
import {after, before, describe, it} from 'node:test'

import {ListObjectsV2Command} from '@aws-sdk/client-s3'

import {FakeKubecost} from '../fakes/kubecost-server.js'
import {TEST_CREDENTIALS, startS3} from '../fakes/s3.js'
import {S3Proxy} from '../fakes/s3-proxy.js'
import {BIN, type CliResult, listFiles, runCli, spawnCli, tempDir} from '../helpers.js'
import {ARN, DAYS, NOW, exportArgs, keyOf} from './two-day-export.js'

const canPidNamespace =
  process.getuid?.() === 0 &&
  spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true'], {stdio: 'ignore'}).status === 0

/** Starts the CLI (under `wrapper`, if given), resolving once its stderr matches `ready`. */
async function startCli(
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
  wrapper?: string[],
): Promise<{child: ChildProcess; done: Promise<CliResult>}> {
  const running = spawnCli(args, env, wrapper)
  const deadline = Date.now() + 30_000
  let stderr = ''
  running.child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
  while (!ready.test(stderr)) {
    if (running.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`the CLI was not ready (exit ${running.child.exitCode}): ${stderr}`)
    await new Promise(r => setTimeout(r, 25))
  }

  return running
}

describe('termination', () => {
  let fake: FakeKubecost
  before(async () => {
    fake = await FakeKubecost.start({cluster: 'prod', days: DAYS, containersPerDay: 4})
    // The second day's allocation call stalls mid-body: the run is caught in the middle of a download.
    fake.addFault({kind: 'stall-body', api: 'allocation', day: '2026-03-02'})
  })
  after(() => fake.close())

  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    it(`${signal} during a download: logged at once, the day dropped, the work directory removed, exit ${code} at once`, async () => {
      const out = await tempDir()
      const work = await tempDir()
      try {
        const args = exportArgs(fake.url, out.path, ['--allocation-read-timeout', '60'])
        const {child, done} = await startCli(args, {TMPDIR: work.path}, /Wrote \d+ rows for 2026-03-01/)
        await new Promise(r => setTimeout(r, 300))
        const sent = Date.now()
        child.kill(signal)
        const result = await done
        assert.ok(Date.now() - sent < 5000, `exited ${Date.now() - sent} ms after ${signal}`)
        assert.equal(result.code, code, result.stderr)
        assert.match(
          result.stderr,
          new RegExp(
            `Error: Received ${signal}: stopped while collecting 2026-03-02; nothing was published for it, and the next run collects it`,
          ),
        )
        // The signal's own line, logged when it arrived, and the error the run then ended with.
        const lines = result.stderr.split('\n').filter(l => l.includes(signal))
        assert.equal(lines.length, 2, result.stderr)
        assert.match(lines[0] ?? '', new RegExp(`^\\S+ WARNING kubecost-s3-exporter: Received ${signal}: stopping`))
        assert.match(lines[1] ?? '', new RegExp(`^Error: Received ${signal}: stopped while collecting`))
        assert.deepEqual(await listFiles(out.path), [keyOf('2026-03-01')])
        assert.deepEqual(await readdir(work.path), [])
      } finally {
        await out.remove()
        await work.remove()
      }
    })
  }

  it(
    'SIGTERM reaches the CLI as PID 1 of its own PID namespace (a container without an init)',
    {skip: !canPidNamespace && 'needs root and unshare --pid'},
    async () => {
      const out = await tempDir()
      const work = await tempDir()
      try {
        const args = exportArgs(fake.url, out.path, ['--allocation-read-timeout', '60'])
        const {child, done} = await startCli(args, {TMPDIR: work.path}, /Wrote \d+ rows for 2026-03-01/, [
          'unshare',
          '--pid',
          '--fork',
          '--mount-proc',
          process.execPath,
          BIN,
        ])
        await new Promise(r => setTimeout(r, 300))
        // The node process is unshare's child, PID 1 inside the namespace.
        const pid = spawnSync('pgrep', ['-P', String(child.pid)], {encoding: 'utf8'}).stdout.trim()
        assert.match(pid, /^\d+$/)
        const inside = spawnSync('sh', ['-c', `grep NSpid /proc/${pid}/status`], {encoding: 'utf8'}).stdout
        assert.match(inside, /\s1$/m, 'the CLI is PID 1 in its namespace')
        const sent = Date.now()
        process.kill(Number(pid), 'SIGTERM')
        const result = await done
        assert.ok(Date.now() - sent < 5000, `exited ${Date.now() - sent} ms after SIGTERM`)
        assert.equal(result.code, 143, result.stderr)
        assert.match(result.stderr, /Received SIGTERM: stopped while collecting 2026-03-02/)
        assert.deepEqual(await readdir(work.path), [])
      } finally {
        await out.remove()
        await work.remove()
      }
    },
  )
})

describe('the run deadline', () => {
  it('fails the day in progress and the days left, each named, and ends with the summary', async () => {
    const fake = await FakeKubecost.start({cluster: 'prod', days: DAYS, containersPerDay: 4})
    fake.addFault({kind: 'stall-body', api: 'allocation', day: '2026-03-01'})
    const out = await tempDir()
    try {
      const started = Date.now()
      const result = await runCli(
        exportArgs(fake.url, out.path, ['--run-deadline', '1', '--allocation-read-timeout', '60']),
      )
      // Half the 60 s read timeout, whatever the machine's load: the deadline, not the stall's timeout, ended it.
      assert.ok(Date.now() - started < 30_000, `took ${Date.now() - started} ms`)
      assert.equal(result.code, 1, result.stderr)
      const failed = result.stderr.split('\n').filter(l => l.includes('Failed to export'))
      assert.equal(failed.length, 2)
      for (const line of failed)
        assert.match(
          line,
          /The run deadline of 1 s \(--run-deadline, RUN_DEADLINE\) passed before this day was written/,
        )
      assert.match(result.stderr, /Summary: 0 written, 2 failed/)
      assert.deepEqual(await listFiles(out.path), [])
    } finally {
      await fake.close()
      await out.remove()
    }
  })
})

describe('termination during an S3 upload', () => {
  it('SIGTERM while S3 holds the upload: the upload is abandoned, nothing is stored, exit 143', async () => {
    const s3 = await startS3(['kubecost-data'])
    const proxy = await S3Proxy.start({target: s3.endpoint})
    const kubecost = await FakeKubecost.start({cluster: 'prod', days: DAYS, containersPerDay: 4})
    const work = await tempDir()
    proxy.addFault('put', {kind: 'hold', always: true})
    try {
      const args = [
        'export',
        '--cluster-arn',
        ARN,
        '--bucket',
        'kubecost-data',
        '--s3-endpoint',
        proxy.endpoint,
        '--kubecost-url',
        kubecost.url,
        '--backfill-days',
        '2',
        '--now',
        NOW,
      ]
      const env = {
        AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
        AWS_REGION: 'us-east-1',
        TMPDIR: work.path,
      }
      const running = spawnCli(args, env)
      const deadline = Date.now() + 30_000
      while (!proxy.requests.some(r => r.operation === 'put' && r.outcome === 'hold')) {
        assert.ok(Date.now() < deadline && running.child.exitCode === null, 'the upload never started')
        await new Promise(r => setTimeout(r, 25))
      }

      const sent = Date.now()
      running.child.kill('SIGTERM')
      const result = await running.done
      assert.ok(Date.now() - sent < 5000, `exited ${Date.now() - sent} ms after SIGTERM`)
      assert.equal(result.code, 143, result.stderr)
      assert.match(
        result.stderr,
        /Error: Received SIGTERM: stopped while collecting 2026-03-01; nothing was published for it/,
      )
      const page = await s3.client.send(new ListObjectsV2Command({Bucket: 'kubecost-data'}))
      assert.deepEqual(page.Contents ?? [], [])
      assert.deepEqual(await readdir(work.path), [])
    } finally {
      await kubecost.close()
      await proxy.close()
      await s3.close()
      await work.remove()
    }
  })
})
