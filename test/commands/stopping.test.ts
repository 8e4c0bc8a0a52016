/**
 * Every command stops on SIGTERM and SIGINT, as PID 1 of a container too: the signal is logged at
 * once (in the log format asked for), the AWS call in flight is aborted, the error says what the run
 * was doing, and the exit code is 143 / 130 — well before the hard stop 10 s after the signal.
 */
import assert from 'node:assert/strict'
import {type ChildProcess, spawnSync} from 'node:child_process'
import {afterEach, beforeEach, describe, it} from 'node:test'

import {GlueFake} from '../fakes/glue.js'
import {StallingEndpoint} from '../fakes/http.js'
import {FakeKubecost} from '../fakes/kubecost-server.js'
import {QuickSightFake} from '../fakes/quicksight.js'
import {TEST_ENV, startS3} from '../fakes/s3.js'
import {BIN, type CliResult, spawnCli} from '../helpers.js'

const canPidNamespace =
  process.getuid?.() === 0 &&
  spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true'], {stdio: 'ignore'}).status === 0

/** Well under the 10 s after which a run that does not wind down is ended anyway. */
const PROMPTLY_MS = 5000

async function until(condition: () => boolean, what: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 30_000
  while (!condition()) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`never got to ${what}`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}

/** Sends `signal` to `pid` and waits for the run to end, timing it. */
async function stop(
  pid: number,
  signal: 'SIGTERM' | 'SIGINT',
  done: Promise<CliResult>,
): Promise<CliResult & {ms: number}> {
  const sent = Date.now()
  process.kill(pid, signal)
  const result = await done
  return {...result, ms: Date.now() - sent}
}

function assertStopped(result: CliResult & {ms: number}, signal: 'SIGTERM' | 'SIGINT', during: RegExp): void {
  assert.equal(result.code, signal === 'SIGTERM' ? 143 : 130, result.stderr)
  assert.ok(result.ms < PROMPTLY_MS, `exited ${result.ms} ms after ${signal}`)
  const lines = result.stderr.split('\n')
  const notice = lines.findIndex(l =>
    new RegExp(`^\\S+ WARNING kubecost-s3-exporter: Received ${signal}: stopping`).test(l),
  )
  assert.ok(notice >= 0, `no line at the signal: ${result.stderr}`)
  const error = lines.findIndex(l => l.startsWith(`Error: Received ${signal}: `))
  assert.ok(error > notice, result.stderr)
  assert.match(lines[error] ?? '', during)
  assert.doesNotMatch(result.stderr, /Unexpected failure/)
}

describe('stopping operator commands', () => {
  let stalled: StallingEndpoint
  beforeEach(async () => {
    stalled = await StallingEndpoint.start()
  })
  afterEach(() => stalled.close())

  it(
    'deploy-glue as PID 1 of its own PID namespace: SIGTERM aborts the stalled Glue call',
    {skip: !canPidNamespace && 'needs root and unshare --pid'},
    async () => {
      const s3 = await startS3(['kubecost-data-111122223333'])
      try {
        const {child, done} = spawnCli(
          ['deploy-glue', '--bucket', 'kubecost-data-111122223333', '--s3-endpoint', s3.endpoint],
          {...TEST_ENV, AWS_ENDPOINT_URL_GLUE: stalled.endpoint, AWS_ENDPOINT_URL_ATHENA: stalled.endpoint},
          ['unshare', '--pid', '--fork', '--mount-proc', process.execPath, BIN],
        )
        await until(() => stalled.requests.length > 0, 'the first Glue call', child)
        // The node process is unshare's child, PID 1 inside the namespace.
        const pid = spawnSync('pgrep', ['-P', String(child.pid)], {encoding: 'utf8'}).stdout.trim()
        assert.match(spawnSync('grep', ['NSpid', `/proc/${pid}/status`], {encoding: 'utf8'}).stdout, /\s1$/m)
        const result = await stop(Number(pid), 'SIGTERM', done)
        assertStopped(result, 'SIGTERM', /stopped during glue:GetDatabase on database kubecost_db$/)
        const request = stalled.requests[0]
        assert.ok(request?.closedAt !== undefined, 'the aborted call let go of its connection')
      } finally {
        await s3.close()
      }
    },
  )

  it('crawl: SIGTERM while it waits for a crawl ends it with 143, not as a failure of its own', async () => {
    const glue = await GlueFake.start()
    try {
      glue.crawlers.set('kubecost_crawler', {
        input: {Name: 'kubecost_crawler', Role: 'kubecost_glue_crawler_role'},
        state: 'READY',
        pollsLeft: 0,
        crawls: 0,
      })
      glue.crawl = {runPolls: 0, outcome: 'SUCCEEDED', forever: true}
      const {child, done} = spawnCli(['crawl', '--poll-ms', '50'], {...TEST_ENV, ...glue.env})
      await until(() => glue.requests.filter(r => r.op === 'GetCrawler').length > 2, 'the wait', child)
      assertStopped(await stop(child.pid ?? 0, 'SIGTERM', done), 'SIGTERM', /Received SIGTERM: stop/)
    } finally {
      await glue.close()
    }
  })

  it('refresh-dataset: SIGINT while it waits for an ingestion ends it with 130', async () => {
    const quicksight = await QuickSightFake.start({
      datasets: {'e88edf48-f2cd-4c23-b6a4-e2b3034e2c41': 'x'},
      stall: true,
    })
    try {
      const {child, done} = spawnCli(['refresh-dataset', '--poll-ms', '50'], quicksight.env)
      await until(
        () => quicksight.actions.filter(a => a === 'quicksight:DescribeIngestion').length > 3,
        'the wait',
        child,
      )
      assertStopped(await stop(child.pid ?? 0, 'SIGINT', done), 'SIGINT', /Received SIGINT: stop/)
    } finally {
      await quicksight.close()
    }
  })

  it('verify-bucket-policy: SIGTERM aborts the stalled S3 reads', async () => {
    const {child, done} = spawnCli(
      ['verify-bucket-policy', '--bucket', 'kubecost-data', '--bucket-admin-role', 'arn:aws:iam::111122223333:role/a'],
      {...TEST_ENV, AWS_ENDPOINT_URL_S3: stalled.endpoint},
    )
    await until(() => stalled.requests.length > 0, 'the first S3 read', child)
    assertStopped(
      await stop(child.pid ?? 0, 'SIGTERM', done),
      'SIGTERM',
      /stopped during s3:Get\w+ on s3:\/\/kubecost-data$/,
    )
  })
})

describe('stopping an export stuck in an AWS call', () => {
  it('SIGTERM during a stalled AssumeRole: a JSON line at once, the call aborted, exit 143 before the hard stop', async () => {
    const stalled = await StallingEndpoint.start()
    const s3 = await startS3(['kubecost-data'])
    const kubecost = await FakeKubecost.start({cluster: 'prod', days: ['2026-03-02']})
    try {
      const {child, done} = spawnCli(
        [
          'export',
          '--cluster-arn',
          'arn:aws:eks:us-east-1:111122223333:cluster/prod',
          '--bucket',
          'kubecost-data',
          '--s3-endpoint',
          s3.endpoint,
          '--kubecost-url',
          kubecost.url,
          '--now',
          '2026-03-05T10:30:00Z',
          '--log-format',
          'json',
        ],
        {
          ...TEST_ENV,
          AWS_ENDPOINT_URL_STS: stalled.endpoint,
          IRSA_PARENT_IAM_ROLE_ARN: 'arn:aws:iam::999988887777:role/kubecost-data-collector',
        },
      )
      await until(() => stalled.requests.length > 0, 'the AssumeRole call', child)
      const result = await stop(child.pid ?? 0, 'SIGTERM', done)
      assert.equal(result.code, 143, result.stderr)
      assert.ok(result.ms < PROMPTLY_MS, `exited ${result.ms} ms after SIGTERM`)
      const entries = result.stderr
        .trim()
        .split('\n')
        .map(l => JSON.parse(l) as Record<string, unknown>)
      const notice = entries.findIndex(
        e => e.level === 'WARNING' && String(e.message).startsWith('Received SIGTERM: stopping'),
      )
      assert.ok(notice >= 0, result.stderr)
      assert.equal(entries[notice]?.signal, 'SIGTERM')
      const last = entries.at(-1)
      assert.equal(last?.level, 'ERROR')
      assert.equal(last?.code, 'ABORTED')
      assert.equal(last?.exitCode, 143)
      // The listing was waiting for the role's credentials.
      assert.match(String(last?.message), /^Received SIGTERM: stopped during s3:ListBucket on s3:\/\/kubecost-data\//)
      assert.ok(stalled.requests[0]?.body.includes('Action=AssumeRole'))
    } finally {
      await kubecost.close()
      await s3.close()
      await stalled.close()
    }
  })
})
