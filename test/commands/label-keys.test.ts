import assert from 'node:assert/strict'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, it} from 'node:test'

import {CreateDatabaseCommand, CreateTableCommand, GlueClient} from '@aws-sdk/client-glue'

import {TEST_CREDENTIALS} from '../fakes/s3.js'
import {refusedUrl, runCli} from '../helpers.js'
import {ROLE, useDeployFakes} from './deploy-fakes.js'

/*
 * Label and annotation keys become columns (properties.labels.<key>): every command that takes them
 * refuses, before doing anything, keys whose columns Athena could not tell apart or Glue could not
 * hold.
 */

const ARN = 'arn:aws:eks:us-east-1:111122223333:cluster/prod'
const MAP = ['--split-by-cluster', '--cluster-map', `cluster-one=${ARN}`]
// Never written: every run here stops at its flags, or at Kubecost.
const OUT = join(tmpdir(), 'kubecost-cid-label-keys-not-written')

/** A Kubernetes key of `length` characters: a DNS-subdomain prefix, "/", a 63-character name. */
function longKey(length: number): string {
  const prefix = length - 64
  return `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(prefix - 128)}/${'n'.repeat(63)}`
}

describe('label and annotation keys: every command refuses what cannot be a column, exit 2', () => {
  const commands: Array<[string, string[]]> = [
    ['export', ['export', '--cluster-arn', ARN, '--output-dir', OUT]],
    ['export --split-by-cluster', ['export', ...MAP, '--output-dir', OUT]],
    ['backfill-plan', ['backfill-plan', '--cluster-arn', ARN, '--output-dir', OUT]],
    ['backfill-plan --split-by-cluster', ['backfill-plan', ...MAP, '--output-dir', OUT]],
    ['deploy-glue', ['deploy-glue', '--bucket', 'kubecost-data-111122223333']],
  ]

  const refused = async (args: string[], env: Record<string, string>, message: RegExp) => {
    const r = await runCli(args, {AWS_REGION: 'us-east-1', ...env})
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, message)
    assert.equal(r.stdout, '')
  }

  for (const [command, args] of commands) {
    it(`${command}: --labels keys that differ only in case, naming both`, async () => {
      await refused(
        [...args, '--labels', 'app,team,App'],
        {},
        /^Error: Invalid --labels \(LABELS\) "app,team,App": "app" and "App" differ only in case: Athena matches column names case-insensitively .*properties\.labels\.app and properties\.labels\.App would be one column$/m,
      )
    })

    it(`${command}: ANNOTATIONS keys that differ only in case`, async () => {
      await refused(
        args,
        {ANNOTATIONS: 'example.com/Owner,example.com/owner'},
        /^Error: Invalid --annotations \(ANNOTATIONS\) "example\.com\/Owner,example\.com\/owner": "example\.com\/Owner" and "example\.com\/owner" differ only in case/m,
      )
    })

    it(`${command}: a label key whose column would pass Glue's 255 characters, naming it`, async () => {
      const key = longKey(238)
      await refused(
        args,
        {LABELS: `app,${key}`},
        new RegExp(
          `^Error: Invalid --labels \\(LABELS\\) "app,${key.replaceAll('.', '\\.')}": "${key.replaceAll('.', '\\.')}" is 238 characters long: the column properties\\.labels\\.<key> would have 256, over the 255 characters Glue allows a column name$`,
          'm',
        ),
      )
    })
  }

  it('lets a key be a label and an annotation at once: two columns', async () => {
    const kubecost = await refusedUrl()
    const r = await runCli(['backfill-plan', '--cluster-arn', ARN, '--output-dir', OUT, '--kubecost-url', kubecost], {
      LABELS: 'app',
      ANNOTATIONS: 'App',
    })
    // Past the flags: it fails reaching Kubecost, a runtime failure.
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, /connection refused/)
  })
})

describe('label keys at the edge of Glue: the longest key that fits is deployed, the fake refuses one more', () => {
  const fakes = useDeployFakes()

  it('deploy-glue creates the table with a 237-character label key', async () => {
    const key = longKey(237)
    const r = await fakes.deploy(['--labels', key, '--crawler-role-arn', ROLE])
    assert.equal(r.code, 0, r.stderr)
    const table = fakes.glue.table('kubecost_db', 'kubecost_table') as {
      StorageDescriptor: {Columns: Array<{Name: string}>}
    }
    const last = table.StorageDescriptor.Columns.at(-1)?.Name ?? ''
    assert.equal(last, `properties.labels.${key}`)
    assert.equal(last.length, 255)
  })

  it('the Glue fake refuses a 256-character column name, as Glue does', async () => {
    const glue = new GlueClient({
      endpoint: fakes.glue.endpoint,
      region: 'us-east-1',
      credentials: TEST_CREDENTIALS,
      maxAttempts: 1,
    })
    try {
      await glue.send(new CreateDatabaseCommand({DatabaseInput: {Name: 'kubecost_db'}}))
      const columns = [
        {Name: 'name', Type: 'string'},
        {Name: `properties.labels.${longKey(238)}`, Type: 'string'},
      ]
      await assert.rejects(
        glue.send(
          new CreateTableCommand({
            DatabaseName: 'kubecost_db',
            TableInput: {Name: 'kubecost_table', StorageDescriptor: {Columns: columns}},
          }),
        ),
        (error: Error) => {
          assert.equal(error.name, 'ValidationException')
          assert.match(
            error.message,
            /at 'tableInput\.storageDescriptor\.columns\.2\.member\.name' failed to satisfy constraint: Member must have length less than or equal to 255/,
          )
          return true
        },
      )
      assert.equal(fakes.glue.table('kubecost_db', 'kubecost_table'), undefined)
    } finally {
      glue.destroy()
    }
  })
})
