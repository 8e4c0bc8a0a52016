/**
 * deploy-glue and what is not its own: objects of the same names that it did not create are reported
 * and left untouched (exit 1, nothing written) unless --adopt; what an earlier version or the original
 * solution's Terraform created is recognised by its shape; updates keep Glue's table versions.
 */
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {CRAWLER_CONFIGURATION, encodeView, viewColumns, viewSql} from '../../src/lib/glue/definitions.js'
import {contractColumns, glueColumns} from '../../src/lib/schema.js'
import {workgroupArn} from '../fakes/athena.js'
import {crawlerArn} from '../fakes/glue.js'
import {BUCKET, ROLE, useDeployFakes} from './deploy-fakes.js'

type Json = Record<string, unknown>
interface Outcome {
  kind: string
  name: string
  action: string
  changes: string[]
  whyForeign?: string[]
}
interface DeployJson {
  dryRun: boolean
  resources: Outcome[]
  notApplied: Outcome[]
}

const MARKER = {'managed-by': 'kubecost-cid'}
const PARQUET = 'org.apache.hadoop.hive.ql.io.parquet'
const TABLE_COLUMNS = glueColumns(contractColumns({labels: ['app'], annotations: []}))
const PARTITION_KEYS = ['account_id', 'region', 'year', 'month'].map(Name => ({Name, Type: 'string'}))

/** The result of a run that failed, under --json: beside the error. */
const partial = (stdout: string) => {
  const json = JSON.parse(stdout) as {error: {code: string}; result: DeployJson}
  assert.ok(json.error.code, stdout)
  return json.result
}

/** The table, view and crawler exactly as the original solution's Terraform wrote them (SPEC "Glue, Athena, QuickSight"), unmarked. */
function terraformObjects() {
  const table: Json = {
    Name: 'kubecost_table',
    TableType: 'EXTERNAL_TABLE',
    Parameters: {classification: 'parquet', EXTERNAL: 'TRUE'},
    StorageDescriptor: {
      Columns: TABLE_COLUMNS,
      Location: `s3://${BUCKET}/`,
      InputFormat: `${PARQUET}.MapredParquetInputFormat`,
      OutputFormat: `${PARQUET}.MapredParquetOutputFormat`,
      SerdeInfo: {SerializationLibrary: `${PARQUET}.serde.ParquetHiveSerDe`, Parameters: {'serialization.format': '1'}},
      Parameters: {classification: 'parquet'},
    },
    PartitionKeys: PARTITION_KEYS,
  }
  const columns = viewColumns({labels: ['app'], annotations: []})
  const view: Json = {
    Name: 'kubecost_view',
    TableType: 'VIRTUAL_VIEW',
    Parameters: {presto_view: 'true', comment: 'Presto View'},
    StorageDescriptor: {
      Columns: columns.map(c => ({Name: c.name, Type: c.type === 'varchar' ? 'string' : c.type})),
    },
    PartitionKeys: [],
    ViewOriginalText: encodeView({
      originalSql: viewSql('kubecost_db', 'kubecost_table', 6),
      catalog: 'awsdatacatalog',
      schema: 'kubecost_db',
      columns,
    }),
    ViewExpandedText: '/* Presto View */',
  }
  const crawler: Json = {
    Name: 'kubecost_crawler',
    Role: 'kubecost_glue_crawler_role',
    Targets: {CatalogTargets: [{DatabaseName: 'kubecost_db', Tables: ['kubecost_table']}]},
    Schedule: 'cron(0 1 * * ? *)',
    SchemaChangePolicy: {UpdateBehavior: 'LOG', DeleteBehavior: 'LOG'},
    Configuration: CRAWLER_CONFIGURATION,
  }
  return {table, view, crawler}
}

describe('deploy-glue: objects it did not create', () => {
  const fakes = useDeployFakes()

  /** A catalog as an earlier version of deploy-glue or the original Terraform left it: no marker anywhere. */
  function seed(objects: {table?: Json; view?: Json; crawler?: Json} = terraformObjects(), database: Json = {}) {
    fakes.glue.databases.set('kubecost_db', {Name: 'kubecost_db', CatalogId: '111122223333', ...database})
    for (const t of [objects.table, objects.view]) if (t) fakes.glue.tables.set(`kubecost_db.${String(t.Name)}`, t)
    if (objects.crawler)
      fakes.glue.crawlers.set(String(objects.crawler.Name), {
        input: objects.crawler,
        state: 'READY',
        pollsLeft: 0,
        crawls: 0,
      })
  }

  const deploy = (args: string[]) => fakes.deploy(['--labels', 'app', ...args])

  it('an EXTERNAL_TABLE named like the view is reported and left untouched: exit 1, nothing written', async () => {
    const {table, crawler} = terraformObjects()
    const theirs = {...table, Name: 'kubecost_view', StorageDescriptor: {...(table.StorageDescriptor as Json)}}
    seed({table, view: theirs, crawler})
    const result = await deploy([])
    assert.equal(result.code, 1, result.stderr)
    assert.match(
      result.stdout,
      /^view kubecost_db\.kubecost_view: left untouched \(not deploy-glue's: it has no managed-by=kubecost-cid parameter; it is an EXTERNAL_TABLE, not a VIRTUAL_VIEW\)$/m,
    )
    // The table is ours by its shape; marking it is a write, and nothing is written.
    assert.match(result.stdout, /^table kubecost_db\.kubecost_table: not updated \(marked managed-by=kubecost-cid\)$/m)
    assert.match(
      result.stderr,
      /Error: 1 existing Glue resource was not made by deploy-glue and was left untouched: view kubecost_db\.kubecost_view \(it has no managed-by=kubecost-cid parameter; it is an EXTERNAL_TABLE, not a VIRTUAL_VIEW\); nothing was changed/,
    )
    assert.match(result.stderr, /Try: If it is meant to be the dashboard's, pass --adopt \(GLUE_ADOPT\)/)
    assert.deepEqual(fakes.glue.writes(), [])
    assert.equal(fakes.glue.table('kubecost_db', 'kubecost_view')?.TableType, 'EXTERNAL_TABLE')
  })

  it('--adopt takes it over: updated in place, marked, and ours on the next run', async () => {
    const {table, crawler} = terraformObjects()
    seed({table, view: {...table, Name: 'kubecost_view'}, crawler})
    const adopted = await deploy(['--adopt'])
    assert.equal(adopted.code, 0, adopted.stderr)
    assert.match(
      adopted.stdout,
      /^view kubecost_db\.kubecost_view: adopted \(not deploy-glue's: it has no managed-by=kubecost-cid parameter; it is an EXTERNAL_TABLE, not a VIRTUAL_VIEW; table type changed: EXTERNAL_TABLE → VIRTUAL_VIEW; .*; marked managed-by=kubecost-cid\)$/m,
    )
    const view = fakes.glue.table('kubecost_db', 'kubecost_view') as Json
    assert.equal(view.TableType, 'VIRTUAL_VIEW')
    assert.equal((view.Parameters as Json)['managed-by'], 'kubecost-cid')

    const again = await deploy(['--json'])
    assert.equal(again.code, 0, again.stderr)
    assert.deepEqual(
      (JSON.parse(again.stdout) as DeployJson).resources.map(r => r.action),
      ['unchanged', 'unchanged', 'unchanged', 'unchanged'],
    )
  })

  it('a table over another bucket is not re-pointed; with --adopt it is, keeping its table version', async () => {
    const {table, view, crawler} = terraformObjects()
    const elsewhere = {
      ...table,
      Parameters: {...MARKER, classification: 'parquet'},
      StorageDescriptor: {...(table.StorageDescriptor as Json), Location: 's3://someone-elses-bucket/data/'},
    }
    seed({table: elsewhere, view, crawler})
    const refused = await deploy(['--json'])
    assert.equal(refused.code, 1)
    const body = partial(refused.stdout)
    assert.deepEqual(
      body.resources.find(r => r.kind === 'table'),
      {
        kind: 'table',
        name: 'kubecost_db.kubecost_table',
        action: 'foreign',
        changes: [],
        // Marked, yet not where this run writes: two deployments may share the names.
        whyForeign: [`it reads s3://someone-elses-bucket/data/, not s3://${BUCKET}/`],
      },
    )
    assert.equal(
      (fakes.glue.table('kubecost_db', 'kubecost_table')?.StorageDescriptor as Json).Location,
      's3://someone-elses-bucket/data/',
    )
    assert.deepEqual(fakes.glue.writes(), [])

    const adopted = await deploy(['--adopt'])
    assert.equal(adopted.code, 0, adopted.stderr)
    assert.match(
      adopted.stdout,
      new RegExp(
        `^table kubecost_db\\.kubecost_table: adopted \\(not deploy-glue's: it reads s3://someone-elses-bucket/data/, not s3://${BUCKET}/; location changed: s3://someone-elses-bucket/data/ → s3://${BUCKET}/\\)$`,
        'm',
      ),
    )
    const update = fakes.glue.requests.find(r => r.op === 'UpdateTable')?.body as Json
    assert.equal(update.SkipArchive, undefined)
    // Glue keeps the definition it replaced: the old location can be restored.
    const versions = fakes.glue.tableVersions.get('kubecost_db.kubecost_table') ?? []
    assert.equal(versions.length, 1)
    assert.equal((versions[0]?.StorageDescriptor as Json).Location, 's3://someone-elses-bucket/data/')
  })

  it('a customised view and a crawler of something else are reported, each with why', async () => {
    const {table, view, crawler} = terraformObjects()
    const custom = {
      ...view,
      Parameters: {...(view.Parameters as Json), ...MARKER},
      ViewOriginalText: encodeView({
        originalSql: 'SELECT namespace, sum(totalcost) AS cost FROM "kubecost_db"."kubecost_table" GROUP BY 1',
        catalog: 'awsdatacatalog',
        schema: 'kubecost_db',
        columns: [],
      }),
    }
    const other = {
      ...crawler,
      Role: 'analytics_crawler_role',
      Targets: {S3Targets: [{Path: 's3://analytics-bucket/events/'}]},
      Schedule: 'cron(0 */2 * * ? *)',
    }
    seed({table, view: custom, crawler: other})
    const result = await deploy(['--crawler-role-arn', ROLE])
    assert.equal(result.code, 1)
    assert.match(
      result.stdout,
      /^view kubecost_db\.kubecost_view: left untouched \(not deploy-glue's: its SQL is not deploy-glue's over kubecost_db\.kubecost_table: SELECT namespace, sum\(totalcost\)/m,
    )
    assert.match(
      result.stdout,
      /^crawler kubecost_crawler: left untouched \(not deploy-glue's: it has no managed-by=kubecost-cid tag; it crawls s3:\/\/analytics-bucket\/events\/, not only the table kubecost_db\.kubecost_table\)$/m,
    )
    assert.match(
      result.stderr,
      /Error: 2 existing Glue resources were not made by deploy-glue and were left untouched: /,
    )
    assert.deepEqual(fakes.glue.writes(), [])
    assert.equal(fakes.glue.crawlers.get('kubecost_crawler')?.input.Role, 'analytics_crawler_role')
  })

  it('a crawler adopted is updated and tagged; a later run finds the tag', async () => {
    const {table, view, crawler} = terraformObjects()
    seed({table, view, crawler: {...crawler, Targets: {S3Targets: [{Path: 's3://analytics-bucket/events/'}]}}})
    const result = await deploy(['--adopt', '--crawler-role-arn', ROLE])
    assert.equal(result.code, 0, result.stderr)
    assert.match(
      result.stdout,
      /^crawler kubecost_crawler: adopted \(not deploy-glue's: .*; target changed: → catalog table kubecost_db\.kubecost_table; marked managed-by=kubecost-cid\)$/m,
    )
    assert.deepEqual(fakes.glue.tags.get(crawlerArn('kubecost_crawler')), MARKER)
    assert.deepEqual(fakes.glue.crawlers.get('kubecost_crawler')?.input.Targets, {
      CatalogTargets: [{DatabaseName: 'kubecost_db', Tables: ['kubecost_table']}],
    })
    // The ARN's account comes from STS, asked once a run.
    assert.deepEqual(fakes.glue.stsRequests, ['GetCallerIdentity'])

    const later = await deploy([])
    assert.equal(later.code, 0, later.stderr)
    assert.match(later.stdout, /^crawler kubecost_crawler: unchanged$/m)
  })

  it('a database it did not create and that holds nothing of its own is not used', async () => {
    fakes.glue.databases.set('analytics', {Name: 'analytics', Parameters: {owner: 'data-team'}})
    const result = await deploy(['--database', 'analytics', '--crawler-role-arn', ROLE])
    assert.equal(result.code, 1)
    assert.match(
      result.stdout,
      /^database analytics: left untouched \(not deploy-glue's: it has no managed-by=kubecost-cid parameter; it holds no table or view deploy-glue made\)$/m,
    )
    assert.match(result.stdout, /^table analytics\.kubecost_table: not created$/m)
    assert.deepEqual(fakes.glue.writes(), [])
    const adopted = await deploy(['--database', 'analytics', '--crawler-role-arn', ROLE, '--adopt'])
    assert.equal(adopted.code, 0, adopted.stderr)
    assert.match(adopted.stdout, /^database analytics: adopted \(not deploy-glue's: /m)
    // Never changed itself: deploy-glue's tables go into it.
    assert.deepEqual(fakes.glue.databases.get('analytics')?.Parameters, {owner: 'data-team'})
    assert.ok(fakes.glue.table('analytics', 'kubecost_table'))
  })

  it("an object another tool claims (managed-by of its own) is not deploy-glue's, whatever its shape", async () => {
    const {table, view, crawler} = terraformObjects()
    seed({table: {...table, Parameters: {classification: 'parquet', 'managed-by': 'terraform'}}, view, crawler})
    const result = await deploy([])
    assert.equal(result.code, 1)
    assert.match(
      result.stdout,
      /^table kubecost_db\.kubecost_table: left untouched \(not deploy-glue's: its managed-by parameter says "terraform"\)$/m,
    )
  })

  it('what the original Terraform or an earlier version made is recognised by its shape: exit 0, marked once', async () => {
    seed()
    const first = await deploy([])
    assert.equal(first.code, 0, first.stderr)
    assert.deepEqual(first.stdout.trim().split('\n'), [
      'database kubecost_db: unchanged',
      'table kubecost_db.kubecost_table: updated (marked managed-by=kubecost-cid)',
      'view kubecost_db.kubecost_view: updated (marked managed-by=kubecost-cid)',
      'crawler kubecost_crawler: updated (marked managed-by=kubecost-cid)',
    ])
    assert.deepEqual(fakes.glue.writes(), ['UpdateTable', 'UpdateTable', 'TagResource'])
    // Only the marker was added: the crawler's definition was not rewritten, the table kept its own parameters.
    assert.deepEqual(fakes.glue.table('kubecost_db', 'kubecost_table')?.Parameters, {
      classification: 'parquet',
      EXTERNAL: 'TRUE',
      ...MARKER,
    })

    const second = await deploy(['--check'])
    assert.equal(second.code, 0, second.stderr)
    assert.equal(fakes.glue.writes().length, 3)
  })

  it('an earlier deploy-glue run (no markers) over a prefix, with more labels: updated and marked, exit 0', async () => {
    const created = await fakes.deploy(['--labels', 'app', '--prefix', 'kc', '--crawler-role-arn', ROLE])
    assert.equal(created.code, 0, created.stderr)
    // What an earlier version left: the same objects without any marker.
    for (const t of fakes.glue.tables.values()) delete (t.Parameters as Json)['managed-by']
    delete fakes.glue.databases.get('kubecost_db')?.Parameters
    fakes.glue.tags.clear()
    const rerun = await fakes.deploy(['--labels', 'app,team', '--prefix', 'kc', '--json'])
    assert.equal(rerun.code, 0, rerun.stderr)
    assert.deepEqual(
      (JSON.parse(rerun.stdout) as DeployJson).resources.map(r => [r.kind, r.action, r.changes.at(-1)]),
      [
        ['database', 'unchanged', undefined],
        ['table', 'updated', 'marked managed-by=kubecost-cid'],
        ['view', 'updated', 'marked managed-by=kubecost-cid'],
        ['crawler', 'updated', 'marked managed-by=kubecost-cid'],
      ],
    )
  })

  it('--dry-run shows what is foreign and what --adopt would take over, writing nothing; --check fails on it', async () => {
    const {table, view, crawler} = terraformObjects()
    seed({table, view, crawler: {...crawler, Targets: {S3Targets: [{Path: 's3://analytics-bucket/'}]}}})
    const plan = await deploy(['--dry-run'])
    assert.equal(plan.code, 0, plan.stderr)
    assert.match(plan.stdout, /^crawler kubecost_crawler: would be left untouched \(not deploy-glue's: /m)
    assert.match(
      plan.stderr,
      /crawler kubecost_crawler was not made by deploy-glue: a run without --dry-run changes nothing and exits 1, unless --adopt is given/,
    )
    const adopt = await deploy(['--dry-run', '--adopt'])
    assert.equal(adopt.code, 0, adopt.stderr)
    assert.match(adopt.stdout, /^crawler kubecost_crawler: would be adopted \(not deploy-glue's: .*; target changed: /m)
    const check = await deploy(['--check'])
    assert.equal(check.code, 1)
    assert.match(
      check.stderr,
      /Error: 3 of 4 Glue resources differ from the definition: table kubecost_db\.kubecost_table \(marked managed-by=kubecost-cid\), view .*, crawler kubecost_crawler \(not deploy-glue's: it has no managed-by=kubecost-cid tag; it crawls s3:\/\/analytics-bucket\/, not only the table kubecost_db\.kubecost_table\)/,
    )
    assert.deepEqual(fakes.glue.writes(), [])
  })

  it('a workgroup of the --create-workgroup name that it did not create is left alone unless adopted', async () => {
    fakes.athena.workgroups.set('kubecost', {
      Name: 'kubecost',
      State: 'ENABLED',
      Description: 'the analysts',
      Configuration: {ResultConfiguration: {OutputLocation: 's3://analysts/results/'}},
    })
    const args = [
      '--crawler-role-arn',
      ROLE,
      '--create-workgroup',
      'kubecost',
      '--results-location',
      's3://q-111122223333/kc/',
    ]
    const refused = await deploy(args)
    assert.equal(refused.code, 1)
    assert.match(
      refused.stdout,
      /^workgroup kubecost: left untouched \(not deploy-glue's: it has no managed-by=kubecost-cid tag; its description is "the analysts" and its configuration is not enforced, unlike the workgroups deploy-glue creates\)$/m,
    )
    assert.match(
      refused.stderr,
      /Try: Otherwise give deploy-glue names of its own: --database, --table, --view, --crawler, --create-workgroup\./,
    )
    assert.deepEqual([...fakes.glue.writes(), ...fakes.athena.writes()], [])

    const adopted = await deploy([...args, '--adopt'])
    assert.equal(adopted.code, 0, adopted.stderr)
    assert.match(
      adopted.stdout,
      /^workgroup kubecost: adopted \(not deploy-glue's: .*; result location changed: s3:\/\/analysts\/results\/ → s3:\/\/q-111122223333\/kc\/; .*; marked managed-by=kubecost-cid\)$/m,
    )
    assert.deepEqual(fakes.athena.tags.get(workgroupArn('kubecost')), [{Key: 'managed-by', Value: 'kubecost-cid'}])
  })

  it('a workgroup an earlier version created (its description, enforced) is recognised and tagged', async () => {
    const args = [
      '--crawler-role-arn',
      ROLE,
      '--create-workgroup',
      'kubecost',
      '--results-location',
      's3://q-111122223333/kc/',
    ]
    assert.equal((await deploy(args)).code, 0)
    fakes.athena.tags.clear()
    const rerun = await deploy(args)
    assert.equal(rerun.code, 0, rerun.stderr)
    assert.match(rerun.stdout, /^workgroup kubecost: updated \(marked managed-by=kubecost-cid\)$/m)
    assert.deepEqual(fakes.athena.writes(), ['CreateWorkGroup', 'TagResource'])
  })
})
