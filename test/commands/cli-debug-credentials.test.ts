/**
 * DEBUG=* makes oclif print the command line and the argv each command gets: the user and password
 * of --kubecost-url and --s3-endpoint must not reach that output, nor any other, whether they come
 * as flags or environment variables.
 */
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {FakeKubecost} from '../fakes/kubecost-server.js'
import {type S3Fake, TEST_ENV, startS3} from '../fakes/s3.js'
import {listFiles, runCli, tempDir} from '../helpers.js'

const ARN = 'arn:aws:eks:us-east-1:111122223333:cluster/prod'
const BUCKET = 'kubecost-data-111122223333'
const NOW = '2026-03-05T10:30:00Z'
const DAY = '2026-03-02'

/** `url` with a user and a password that contains an @ (allowed raw before the host's @). */
const withUser = (url: string, user: string, password: string) => url.replace('://', `://${user}:${password}@`)

describe('DEBUG=* and URL credentials', () => {
  let fake: FakeKubecost
  let s3: S3Fake
  before(async () => {
    fake = await FakeKubecost.start({cluster: 'prod', days: [DAY], containersPerDay: 2})
    s3 = await startS3([BUCKET])
  })
  after(async () => {
    await fake.close()
    await s3.close()
  })

  const common = ['export', '--cluster-arn', ARN, '--backfill-days', '1', '--now', NOW, '--json']

  it('--kubecost-url as a flag: debug output shows the URL with *** for user and password', async () => {
    const out = await tempDir()
    try {
      const url = withUser(fake.url, 'kc-user', 'KC-PASS@WORD')
      const result = await runCli([...common, '--kubecost-url', url, '--output-dir', out.path], {DEBUG: '*'})
      assert.equal(result.code, 0, result.stderr)
      assert.equal((await listFiles(out.path)).length, 1)
      // The debug output is there, with the command line in it, redacted.
      assert.match(result.stderr, /oclif:main process\.argv/)
      assert.ok(result.stderr.includes(fake.url.replace('://', '://***@')), result.stderr)
      for (const output of [result.stdout, result.stderr]) assert.doesNotMatch(output, /KC-PASS|WORD@|kc-user/)
    } finally {
      await out.remove()
    }
  })

  it('--s3-endpoint and --kubecost-url from the environment and as --flag=value', async () => {
    const kubecost = withUser(fake.url, 'kc-user', 'KC-PASS')
    const endpoint = withUser(s3.endpoint, 's3-user', 'S3-PASS')
    for (const [args, env] of [
      [['--s3-endpoint', endpoint], {KUBECOST_API_ENDPOINT: kubecost}],
      [[`--s3-endpoint=${endpoint}`, `--kubecost-url=${kubecost}`], {}],
    ] as const) {
      const result = await runCli([...common, '--bucket', BUCKET, '--force', '--from', DAY, ...args], {
        ...TEST_ENV,
        ...env,
        DEBUG: '*',
      })
      assert.equal(result.code, 0, result.stderr)
      assert.equal((JSON.parse(result.stdout) as {written: number}).written, 1)
      assert.match(result.stderr, /oclif:main process\.argv/)
      for (const output of [result.stdout, result.stderr])
        assert.doesNotMatch(output, /KC-PASS|S3-PASS|kc-user|s3-user/)
    }
  })
})
