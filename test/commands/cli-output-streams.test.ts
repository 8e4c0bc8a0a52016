/**
 * stdout or stderr that cannot be written: a full disk (/dev/full answers every write with ENOSPC)
 * is a named error and exit 1, never a stack trace; a pipe whose reader is gone (EPIPE) ends the
 * output quietly, with the run's own exit code.
 */
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {closeSync, openSync} from 'node:fs'
import {after, before, describe, it} from 'node:test'

import {FakeKubecost} from '../fakes/kubecost-server.js'
import {BIN, type CliResult, cliEnv, listFiles, tempDir} from '../helpers.js'

const ARN = 'arn:aws:eks:us-east-1:111122223333:cluster/prod'
const ISSUER = 'https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE'
// With its results location given, iam-policy logs nothing on success: stderr holds only what these tests look for.
const IAM = [
  'iam-policy',
  '--cluster-arn',
  ARN,
  '--oidc-issuer',
  ISSUER,
  '--bucket',
  'kubecost-data-111122223333',
  '--results-location',
  's3://athena-results-111122223333/kubecost/',
]
const FULL =
  'Error: Could not write to standard output (ENOSPC: no space left on the device)\nTry: Free space where standard output is redirected, or redirect it elsewhere.\n'

/** The CLI with stdout or stderr on /dev/full; the other one captured. */
async function onDevFull(
  stream: 'stdout' | 'stderr',
  args: string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  const full = openSync('/dev/full', 'w')
  try {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: cliEnv(env),
      stdio: ['ignore', stream === 'stdout' ? full : 'pipe', stream === 'stderr' ? full : 'pipe'],
    })
    let captured = ''
    ;(stream === 'stdout' ? child.stderr : child.stdout)?.on('data', (d: Buffer) => (captured += d.toString()))
    const code = await new Promise<number>((resolve, reject) => {
      child.on('error', reject)
      child.on('close', c => resolve(c ?? -1))
    })
    return stream === 'stdout' ? {code, stdout: '', stderr: captured} : {code, stdout: captured, stderr: ''}
  } finally {
    closeSync(full)
  }
}

describe('output streams that cannot be written', () => {
  let fake: FakeKubecost
  before(async () => {
    fake = await FakeKubecost.start({cluster: 'prod', days: ['2026-03-02'], containersPerDay: 2})
  })
  after(() => fake.close())

  it('--json > /dev/full: a named error on stderr, exit 1, no stack', async () => {
    const result = await onDevFull('stdout', [...IAM, '--json'])
    assert.equal(result.code, 1)
    assert.equal(result.stderr, FULL)
  })

  it('in the log format asked for: a JSON ERROR line under LOG_FORMAT=json', async () => {
    const result = await onDevFull('stdout', IAM, {LOG_FORMAT: 'json'})
    assert.equal(result.code, 1)
    const line = JSON.parse(result.stderr) as {level: string; code: string; exitCode: number; suggestions: string[]}
    assert.deepEqual(
      [line.level, line.code, line.exitCode, line.suggestions],
      ['ERROR', 'LOCAL_IO', 1, ['Free space where standard output is redirected, or redirect it elsewhere.']],
    )
  })

  it('oclif’s own output too: --version and --help', async () => {
    for (const args of [['--version'], ['export', '--help']]) {
      const result = await onDevFull('stdout', args)
      assert.equal(result.code, 1, args.join(' '))
      assert.equal(result.stderr, FULL)
    }
  })

  it('an export still writes its files, then fails for its lost result', async () => {
    const out = await tempDir()
    try {
      const args = ['export', '--cluster-arn', ARN, '--kubecost-url', fake.url, '--backfill-days', '1']
      const result = await onDevFull('stdout', [
        ...args,
        '--now',
        '2026-03-05T10:30:00Z',
        '--output-dir',
        out.path,
        '--json',
      ])
      assert.equal(result.code, 1)
      assert.ok(result.stderr.endsWith(FULL), result.stderr)
      assert.doesNotMatch(result.stderr, /\n\s+at /)
      assert.equal((await listFiles(out.path)).length, 1)
    } finally {
      await out.remove()
    }
  })

  it('stderr on /dev/full: nowhere to say it, the exit code says it (a usage error keeps its 2), the result is printed', async () => {
    const usage = await onDevFull('stderr', ['export', '--bogus'])
    assert.equal(usage.code, 2)
    assert.equal(usage.stdout, '')
    const out = await tempDir()
    try {
      const args = ['export', '--cluster-arn', ARN, '--kubecost-url', fake.url, '--backfill-days', '1']
      const logged = await onDevFull('stderr', [
        ...args,
        '--now',
        '2026-03-05T10:30:00Z',
        '--output-dir',
        out.path,
        '--json',
      ])
      assert.equal(logged.code, 1)
      assert.equal((JSON.parse(logged.stdout) as {written: number}).written, 1)
    } finally {
      await out.remove()
    }
  })

  it('a reader that is gone (EPIPE, as with | head -1): ends quietly with the run’s exit code', async () => {
    for (const args of [
      [...IAM, '--json'],
      ['export', '--help'],
    ]) {
      const child = spawn(process.execPath, [BIN, ...args], {env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe']})
      // Closed before the CLI writes its first byte.
      child.stdout.destroy()
      let stderr = ''
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      const code = await new Promise<number | null>(resolve => child.on('close', resolve))
      assert.equal(code, 0, stderr)
      assert.equal(stderr, '')
    }
  })
})
