/**
 * The README's way to run the CLI from a clone, `npm run -s cli -- …`, run as a person runs it: from
 * another directory, with --json redirected and a relative --output-dir. stdout must be the JSON
 * alone (no npm banner), and the path must resolve from that directory, not from the clone.
 */
import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {rm} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {promisify} from 'node:util'

import {FakeKubecost} from '../fakes/kubecost-server.js'
import {ROOT, cliEnv, listFiles, tempDir} from '../helpers.js'

const ARN = 'arn:aws:eks:us-east-1:111122223333:cluster/prod'
const DAY = '2026-03-02'

/** The environment of a person's shell: none of the npm_* variables of the npm that runs these tests. */
function shellEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(cliEnv()).filter(([name]) => !/^npm_/i.test(name) && name !== 'INIT_CWD'))
}

describe('npm run -s cli from another directory', () => {
  let fake: FakeKubecost
  before(async () => {
    fake = await FakeKubecost.start({cluster: 'prod', days: [DAY], containersPerDay: 2})
  })
  after(() => fake.close())

  it('prints clean JSON on stdout and resolves a relative --output-dir from the caller', async () => {
    const caller = await tempDir()
    const relative = `out-${process.pid}`
    try {
      const args = ['export', '--cluster-arn', ARN, '--kubecost-url', fake.url, '--backfill-days', '1']
      const {stdout} = await promisify(execFile)(
        'npm',
        [
          '--prefix',
          ROOT,
          'run',
          '-s',
          'cli',
          '--',
          ...args,
          '--now',
          '2026-03-05T10:30:00Z',
          '--output-dir',
          relative,
          '--json',
        ],
        {cwd: caller.path, env: shellEnv()},
      )
      const result = JSON.parse(stdout) as {written: number; destination: string}
      assert.equal(result.written, 1)
      assert.equal(result.destination, join(caller.path, relative))
      assert.deepEqual(await listFiles(join(caller.path, relative)), [
        `account_id=111122223333/region=us-east-1/year=2026/month=03/${DAY}_prod.snappy.parquet`,
      ])
    } finally {
      await caller.remove()
      // Where it would land if resolved against the clone.
      await rm(join(ROOT, relative), {recursive: true, force: true})
    }
  })
})
