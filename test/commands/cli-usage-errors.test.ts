/**
 * Mistakes on the command line (an unknown flag, a missing required one, a stray word) come out as
 * this CLI's own usage errors: one line, the closest flag or the environment variable named, exit 2,
 * and the JSON shapes of every error under --json and JSON logs.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {Config} from '@oclif/core'

import {ROOT, runCli} from '../helpers.js'

const ARN = 'arn:aws:eks:us-east-1:111122223333:cluster/prod'
const CRAWLER = 'arn:aws:iam::111122223333:role/kubecost_glue_crawler_role'

interface ErrorJson {
  code: string
  message: string
  exitCode: number
  suggestions: string[]
}

describe('usage errors', () => {
  it('an unknown flag: one line naming it and the closest flag, exit 2', async () => {
    const result = await runCli(['export', '--cluster-ar', ARN, '--output-dir', '/tmp/x'])
    assert.equal(result.code, 2)
    assert.equal(
      result.stderr,
      'Error: Unknown flag --cluster-ar. Did you mean --cluster-arn?\nTry: kubecost-cid export --help lists its flags.\n',
    )
    assert.equal(result.stdout, '')
  })

  it('several unknown flags, a negated boolean among them; the value after = is never shown', async () => {
    const result = await runCli([
      'export',
      '--kubecost-ur=http://user:SECRET@kubecost:9090',
      '--no-tls-verfy',
      '--zzzzzzzz',
      '--output-dir',
      '/tmp/x',
    ])
    assert.equal(result.code, 2)
    assert.equal(
      result.stderr.split('\n')[0],
      'Error: Unknown flags --kubecost-ur (did you mean --kubecost-url?), --no-tls-verfy (did you mean --no-tls-verify?), --zzzzzzzz',
    )
    assert.doesNotMatch(result.stderr, /SECRET/)
  })

  it('a missing required flag: named with its environment variable, exit 2', async () => {
    const result = await runCli(['verify-bucket-policy'])
    assert.equal(result.code, 2)
    assert.equal(
      result.stderr,
      [
        'Error: Missing required flag --bucket (S3_BUCKET_NAME)',
        'Try: Give --bucket or set S3_BUCKET_NAME.',
        'Try: kubecost-cid verify-bucket-policy --help lists its flags.',
        '',
      ].join('\n'),
    )
  })

  it('several missing flags and a broken rule between flags, on one line', async () => {
    const result = await runCli(['iam-policy'])
    assert.equal(result.code, 2)
    const [first, ...rest] = result.stderr.trimEnd().split('\n')
    assert.equal(
      first,
      'Error: Missing required flags --cluster-arn (CLUSTER_ID), --bucket (S3_BUCKET_NAME); Exactly one of the following must be provided: --oidc-issuer (OIDC_ISSUER), --oidc-provider (OIDC_PROVIDER)',
    )
    assert.ok(
      rest.every(l => l.startsWith('Try: ')),
      result.stderr,
    )
  })

  it('a flag that needs a value, given none', async () => {
    const result = await runCli(['export', '--output-dir', '/tmp/x', '--prefix'])
    assert.equal(result.code, 2)
    assert.equal(result.stderr.split('\n')[0], 'Error: Flag --prefix (S3_PREFIX) expects a value')
  })

  it('a word after the command, or after a flag that takes one value', async () => {
    const afterCommand = await runCli(['export', 'stray'])
    assert.equal(afterCommand.code, 2)
    assert.equal(
      afterCommand.stderr.split('\n')[0],
      'Error: Unexpected argument "stray": kubecost-cid export takes flags only',
    )
    const afterFlag = await runCli(['export', '--labels', 'app,', 'team', '--output-dir', '/tmp/x'])
    assert.equal(afterFlag.code, 2)
    assert.equal(
      afterFlag.stderr.split('\n')[0],
      'Error: Unexpected argument "team": kubecost-cid export takes flags only',
    )
    assert.match(afterFlag.stderr, /^Try: Quote a value that contains spaces\.$/m)
  })

  describe('multi-value flags take one value each time', () => {
    it('--exporter-account leaves the value of a mistyped flag after it alone', async () => {
      const result = await runCli([
        'verify-bucket-policy',
        '--bucket',
        'kubecost-data',
        '--exporter-account',
        '111122223333',
        '--crawler-role',
        CRAWLER,
      ])
      assert.equal(result.code, 2)
      assert.equal(result.stderr.split('\n')[0], 'Error: Unknown flag --crawler-role. Did you mean --crawler-role-arn?')
    })

    it('--cluster-map with two values after it says how to give two', async () => {
      const result = await runCli([
        'export',
        '--split-by-cluster',
        '--cluster-map',
        `one=${ARN}`,
        `two=${ARN.replace('prod', 'staging')}`,
        '--output-dir',
        '/tmp/x',
      ])
      assert.equal(result.code, 2)
      assert.match(
        result.stderr,
        /^Error: Unexpected argument "two=arn:aws:eks:us-east-1:111122223333:cluster\/staging"/,
      )
      assert.match(
        result.stderr,
        /^Try: Give a repeatable flag once per value \(--cluster-map A --cluster-map B\), or one comma-separated value\.$/m,
      )
    })

    it('every multi-value flag of every command is non-greedy: one rule', async () => {
      const config = await Config.load(ROOT)
      const multiple: string[] = []
      for (const command of config.commands) {
        const loaded = await command.load()
        for (const [name, flag] of Object.entries(loaded.flags ?? {})) {
          if (flag.type !== 'option' || !flag.multiple) continue
          multiple.push(`${command.id} --${name}`)
          assert.equal(flag.multipleNonGreedy, true, `${command.id} --${name}`)
        }
      }

      assert.deepEqual(multiple.sort(), [
        'backfill-plan --cluster-map',
        'export --cluster-map',
        'verify-bucket-policy --bucket-admin-role',
        'verify-bucket-policy --exporter-account',
      ])
    })
  })

  describe('in the JSON shapes of every error', () => {
    it('{"error": ...} on stdout under --json', async () => {
      const result = await runCli(['export', '--cluster-ar', ARN, '--json'])
      assert.equal(result.code, 2)
      assert.deepEqual(JSON.parse(result.stdout), {
        error: {
          code: 'USAGE',
          message: 'Unknown flag --cluster-ar. Did you mean --cluster-arn?',
          exitCode: 2,
          suggestions: ['kubecost-cid export --help lists its flags.'],
        },
      })
    })

    it('one ERROR line under --log-format json and LOG_FORMAT=json, the same fields', async () => {
      for (const [args, env] of [
        [['deploy-glue', '--log-format', 'json'], {}],
        [['deploy-glue'], {LOG_FORMAT: 'json'}],
      ] as const) {
        const result = await runCli([...args], env)
        assert.equal(result.code, 2)
        const lines = result.stderr.trimEnd().split('\n')
        assert.equal(lines.length, 1, result.stderr)
        const line = JSON.parse(lines[0] ?? '') as ErrorJson & {level: string}
        assert.deepEqual(
          {
            level: line.level,
            code: line.code,
            message: line.message,
            exitCode: line.exitCode,
            suggestions: line.suggestions,
          },
          {
            level: 'ERROR',
            code: 'USAGE',
            message: 'Missing required flag --bucket (S3_BUCKET_NAME)',
            exitCode: 2,
            suggestions: ['Give --bucket or set S3_BUCKET_NAME.', 'kubecost-cid deploy-glue --help lists its flags.'],
          },
        )
      }
    })

    it('a mistyped command too', async () => {
      const json = await runCli(['exprot', '--json'])
      assert.equal(json.code, 2)
      const {error} = JSON.parse(json.stdout) as {error: ErrorJson}
      assert.deepEqual([error.code, error.exitCode], ['USAGE', 2])
      assert.match(error.message, /^exprot is not a kubecost-cid command\. Did you mean export\?/)
      const log = await runCli(['exprot'], {LOG_FORMAT: 'json'})
      assert.equal((JSON.parse(log.stderr) as ErrorJson).code, 'USAGE')
    })
  })
})
