import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {PutObjectCommand} from '@aws-sdk/client-s3'

import {CRAWLER_CONFIGURATION, decodeView, viewColumns} from '../../src/lib/glue/definitions.js'
import {contractColumns, glueColumns} from '../../src/lib/schema.js'
import {TEST_ENV} from '../fakes/s3.js'
import {refusedUrl, runCli} from '../helpers.js'
import {BUCKET, ROLE, useDeployFakes} from './deploy-fakes.js'

const PARQUET = 'org.apache.hadoop.hive.ql.io.parquet'

type Json = Record<string, unknown>
interface DeployJson {
  dryRun: boolean
  resources: Array<{kind: string; name: string; action: string; changes: string[]}>
  notApplied: Array<{kind: string; name: string; action: string; changes: string[]}>
  foreignObjects: {count: number; examples: string[]}
}

/** The result of a run that failed, under --json: beside the error. */
const partial = (stdout: string) => {
  const json = JSON.parse(stdout) as {error: {code: string}; result: DeployJson}
  assert.ok(json.error.code, stdout)
  return json.result
}

describe('deploy-glue', () => {
  const fakes = useDeployFakes()

  const {deploy} = fakes
  const actions = (stdout: string) =>
    Object.fromEntries((JSON.parse(stdout) as DeployJson).resources.map(r => [r.kind, r.action]))
  const request = (op: string) => fakes.glue.requests.find(r => r.op === op)?.body
  const created = (name: string) =>
    fakes.glue.requests.find(r => r.op === 'CreateTable' && (r.body.TableInput as Json).Name === name)?.body
      .TableInput as Json

  it('creates the database, table, view and crawler from the column list, exactly', async () => {
    const result = await deploy([
      '--labels',
      'app,app.kubernetes.io/Name',
      '--annotations',
      'owner',
      '--prefix',
      'exports/kubecost',
      '--crawler-role-arn',
      ROLE,
    ])
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(result.stdout.trim().split('\n'), [
      'database kubecost_db: created',
      'table kubecost_db.kubecost_table: created',
      'view kubecost_db.kubecost_view: created',
      'crawler kubecost_crawler: created',
    ])
    assert.deepEqual(fakes.glue.writes(), ['CreateDatabase', 'CreateTable', 'CreateTable', 'CreateCrawler'])
    // Everything it creates is marked as its own, so a later run tells it from anyone else's.
    assert.deepEqual(fakes.glue.databases.get('kubecost_db')?.Parameters, {'managed-by': 'kubecost-cid'})

    const table = created('kubecost_table')
    const sd = table.StorageDescriptor as Json
    const expected = glueColumns(contractColumns({labels: ['app', 'app.kubernetes.io/Name'], annotations: ['owner']}))
    assert.equal(expected.length, 61)
    assert.deepEqual(sd.Columns, expected)
    assert.deepEqual(
      (sd.Columns as Json[]).slice(58).map(c => c.Name),
      ['properties.labels.app', 'properties.labels.app.kubernetes.io/name', 'properties.annotations.owner'],
    )
    assert.deepEqual((sd.Columns as Json[]).slice(0, 3), [
      {Name: 'name', Type: 'string'},
      {Name: 'window.start', Type: 'timestamp'},
      {Name: 'window.end', Type: 'timestamp'},
    ])
    assert.equal(table.TableType, 'EXTERNAL_TABLE')
    assert.deepEqual(table.Parameters, {classification: 'parquet', 'managed-by': 'kubecost-cid'})
    assert.deepEqual(
      table.PartitionKeys,
      ['account_id', 'region', 'year', 'month'].map(Name => ({Name, Type: 'string'})),
    )
    assert.equal(sd.Location, `s3://${BUCKET}/exports/kubecost/`)
    assert.equal(sd.InputFormat, `${PARQUET}.MapredParquetInputFormat`)
    assert.equal(sd.OutputFormat, `${PARQUET}.MapredParquetOutputFormat`)
    assert.deepEqual(sd.SerdeInfo, {
      SerializationLibrary: `${PARQUET}.serde.ParquetHiveSerDe`,
      Parameters: {'serialization.format': '1'},
    })
    assert.deepEqual(sd.Parameters, {classification: 'parquet'})

    const crawler = request('CreateCrawler')
    assert.deepEqual(crawler, {
      Name: 'kubecost_crawler',
      Role: ROLE,
      Targets: {CatalogTargets: [{DatabaseName: 'kubecost_db', Tables: ['kubecost_table']}]},
      Schedule: 'cron(0 1 * * ? *)',
      SchemaChangePolicy: {UpdateBehavior: 'LOG', DeleteBehavior: 'LOG'},
      Configuration: CRAWLER_CONFIGURATION,
      Tags: {'managed-by': 'kubecost-cid'},
    })
    assert.deepEqual(JSON.parse(CRAWLER_CONFIGURATION), {
      Version: 1,
      CrawlerOutput: {Partitions: {AddOrUpdateBehavior: 'InheritFromTable'}},
      Grouping: {TableGroupingPolicy: 'CombineCompatibleSchemas'},
    })
  })

  it('writes the view as an Athena (Presto) VIRTUAL_VIEW with every column and its Presto type', async () => {
    const result = await deploy(['--labels', 'team', '--crawler-role-arn', ROLE, '--view-months', '3'])
    assert.equal(result.code, 0, result.stderr)
    const view = created('kubecost_view')
    assert.equal(view.TableType, 'VIRTUAL_VIEW')
    assert.deepEqual(view.Parameters, {presto_view: 'true', comment: 'Presto View', 'managed-by': 'kubecost-cid'})
    assert.equal(view.ViewExpandedText, '/* Presto View */')
    const decoded = decodeView(String(view.ViewOriginalText))
    assert.ok(decoded)
    assert.equal(
      decoded.originalSql,
      `SELECT * FROM "kubecost_db"."kubecost_table" WHERE ((current_date - INTERVAL '3' MONTH) <= "window.start")`,
    )
    assert.equal(decoded.catalog, 'awsdatacatalog')
    assert.equal(decoded.schema, 'kubecost_db')
    assert.equal(decoded.columns.length, 58 + 1 + 4)
    assert.deepEqual(decoded.columns, viewColumns({labels: ['team'], annotations: []}))
    assert.deepEqual(decoded.columns.slice(0, 4), [
      {name: 'name', type: 'varchar'},
      {name: 'window.start', type: 'timestamp'},
      {name: 'window.end', type: 'timestamp'},
      {name: 'minutes', type: 'double'},
    ])
    assert.deepEqual(
      decoded.columns.slice(-5).map(c => c.name),
      ['properties.labels.team', 'account_id', 'region', 'year', 'month'],
    )
    // The 58 contract columns lower-cased and the 4 partition keys: what the original QuickSight dataset selects.
    const names = new Set(decoded.columns.map(c => c.name))
    for (const c of contractColumns({labels: [], annotations: []})) assert.ok(names.has(c.name.toLowerCase()), c.name)
    const sd = view.StorageDescriptor as Json
    assert.deepEqual((sd.Columns as Json[]).slice(1, 4), [
      {Name: 'window.start', Type: 'timestamp'},
      {Name: 'window.end', Type: 'timestamp'},
      {Name: 'minutes', Type: 'double'},
    ])
    assert.equal((sd.Columns as Json[]).length, 63)
  })

  it('puts the table at the bucket root without a prefix', async () => {
    const result = await deploy(['--crawler-role-arn', ROLE])
    assert.equal(result.code, 0, result.stderr)
    assert.equal((created('kubecost_table').StorageDescriptor as Json).Location, `s3://${BUCKET}/`)
  })

  it('changes nothing on a second run, even after Glue and a crawl added their own fields', async () => {
    const first = await deploy(['--labels', 'App', '--crawler-role-arn', ROLE, '--json'])
    assert.equal(first.code, 0, first.stderr)
    const table = fakes.glue.table('kubecost_db', 'kubecost_table') as Json
    table.Parameters = {...(table.Parameters as Json), UPDATED_BY_CRAWLER: 'kubecost_crawler'}
    const writes = fakes.glue.writes().length
    // Without --crawler-role-arn: the existing crawler keeps its role.
    const second = await deploy(['--labels', 'App', '--json'])
    assert.equal(second.code, 0, second.stderr)
    assert.deepEqual(actions(second.stdout), {
      database: 'unchanged',
      table: 'unchanged',
      view: 'unchanged',
      crawler: 'unchanged',
    })
    assert.equal(fakes.glue.writes().length, writes)
  })

  it("a label added updates the table's columns (and the view's), nothing else", async () => {
    assert.equal((await deploy(['--labels', 'app', '--crawler-role-arn', ROLE])).code, 0)
    const before = fakes.glue.writes().length
    const result = await deploy(['--labels', 'app,team'])
    assert.equal(result.code, 0, result.stderr)
    const lines = result.stdout.trim().split('\n')
    assert.deepEqual(lines, [
      'database kubecost_db: unchanged',
      'table kubecost_db.kubecost_table: updated (columns added: properties.labels.team)',
      'view kubecost_db.kubecost_view: updated (columns added: properties.labels.team; view columns added: properties.labels.team)',
      'crawler kubecost_crawler: unchanged',
    ])
    assert.deepEqual(fakes.glue.writes().slice(before), ['UpdateTable', 'UpdateTable'])
    const update = fakes.glue.requests.filter(r => r.op === 'UpdateTable')[0]?.body as Json
    const cols = ((update.TableInput as Json).StorageDescriptor as Json).Columns as Json[]
    assert.deepEqual(cols.at(-1), {Name: 'properties.labels.team', Type: 'string'})
    assert.deepEqual(
      (update.TableInput as Json).PartitionKeys,
      ['account_id', 'region', 'year', 'month'].map(Name => ({Name, Type: 'string'})),
    )
    // Glue keeps the definitions it replaced as table versions: an update can be undone.
    assert.equal(update.SkipArchive, undefined)
    const versions = fakes.glue.tableVersions.get('kubecost_db.kubecost_table') ?? []
    assert.deepEqual(
      versions.map(v => ((v.StorageDescriptor as Json).Columns as Json[]).at(-1)),
      [{Name: 'properties.labels.app', Type: 'string'}],
    )
  })

  it('refuses to remove a label column without --allow-column-removal, exit 2, writing nothing', async () => {
    assert.equal((await deploy(['--labels', 'app,team', '--crawler-role-arn', ROLE])).code, 0)
    const before = fakes.glue.writes().length
    const refused = await deploy(['--labels', 'app'])
    assert.equal(refused.code, 2, refused.stderr)
    assert.match(
      refused.stderr,
      /Error: Table kubecost_db\.kubecost_table has columns that --labels\/--annotations \(LABELS\/ANNOTATIONS\) no longer list: properties\.labels\.team/,
    )
    assert.match(refused.stderr, /Try: pass --allow-column-removal/)
    assert.equal(fakes.glue.writes().length, before)

    const allowed = await deploy(['--labels', 'app', '--allow-column-removal'])
    assert.equal(allowed.code, 0, allowed.stderr)
    assert.match(
      allowed.stdout,
      /table kubecost_db\.kubecost_table: updated \(columns removed: properties\.labels\.team\)/,
    )
  })

  it('--dry-run prints the plan and writes nothing', async () => {
    const result = await deploy(['--dry-run', '--crawler-role-arn', ROLE])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /^database kubecost_db: would be created$/m)
    assert.match(result.stdout, /^crawler kubecost_crawler: would be created$/m)
    assert.deepEqual(fakes.glue.writes(), [])

    assert.equal((await deploy(['--crawler-role-arn', ROLE])).code, 0)
    const before = fakes.glue.writes().length
    const plan = await deploy(['--dry-run', '--labels', 'team', '--crawler-schedule', 'cron(0 2 * * ? *)', '--json'])
    assert.equal(plan.code, 0, plan.stderr)
    const json = JSON.parse(plan.stdout) as DeployJson
    assert.equal(json.dryRun, true)
    assert.deepEqual(json.resources.find(r => r.kind === 'crawler')?.changes, [
      'schedule changed: cron(0 1 * * ? *) → cron(0 2 * * ? *)',
    ])
    assert.equal(fakes.glue.writes().length, before)
  })

  it('--check exits 1 on drift (naming it) and 0 when everything matches, writing nothing', async () => {
    const missing = await deploy(['--check', '--crawler-role-arn', ROLE])
    assert.equal(missing.code, 1, missing.stderr)
    assert.match(
      missing.stderr,
      /Error: 4 of 4 Glue resources differ from the definition: database kubecost_db \(missing\)/,
    )
    assert.deepEqual(fakes.glue.writes(), [])

    assert.equal((await deploy(['--crawler-role-arn', ROLE])).code, 0)
    const clean = await deploy(['--check'])
    assert.equal(clean.code, 0, clean.stderr)

    const drift = await deploy(['--check', '--labels', 'team', '--json'])
    assert.equal(drift.code, 1)
    const {error, result} = JSON.parse(drift.stdout) as {error: {code: string}; result: unknown}
    assert.equal(error.code, 'GLUE_DRIFT')
    assert.deepEqual(actions(JSON.stringify(result)), {
      database: 'unchanged',
      table: 'updated',
      view: 'updated',
      crawler: 'unchanged',
    })
  })

  it('needs --crawler-role-arn to create the crawler: exit 2 naming the flag and its variable', async () => {
    const result = await deploy([])
    assert.equal(result.code, 2)
    assert.match(
      result.stderr,
      /Error: Crawler kubecost_crawler does not exist, and creating it needs a role: --crawler-role-arn \(CRAWLER_ROLE_ARN\) is not set/,
    )
    assert.deepEqual(fakes.glue.writes(), [])
  })

  it('rejects bad names and schedules naming the flag, variable and value', async () => {
    const bad = await deploy(['--database', 'kube-cost'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /Invalid --database \(GLUE_DATABASE\) "kube-cost"/)
    const schedule = await deploy(['--crawler-schedule', 'daily'])
    assert.equal(schedule.code, 2)
    assert.match(schedule.stderr, /Invalid --crawler-schedule \(CRAWLER_SCHEDULE\) "daily"/)
  })

  it('updates a crawler that drifted: role, schedule, policy and configuration, compared semantically', async () => {
    assert.equal((await deploy(['--crawler-role-arn', ROLE])).code, 0)
    const c = fakes.glue.crawlers.get('kubecost_crawler')
    assert.ok(c)
    c.input = {
      ...c.input,
      Role: 'kubecost_glue_crawler_role',
      SchemaChangePolicy: {UpdateBehavior: 'UPDATE_IN_DATABASE', DeleteBehavior: 'LOG'},
    }
    const result = await deploy([])
    assert.equal(result.code, 0, result.stderr)
    // The role by name is the same role; the configuration came back re-serialised and still matches.
    assert.match(
      result.stdout,
      /^crawler kubecost_crawler: updated \(schema change policy changed: update UPDATE_IN_DATABASE\/delete LOG → LOG\/LOG\)$/m,
    )
  })

  it('warns about objects under the table location that are not exporter files, with examples', async () => {
    const put = (Key: string) => fakes.s3.client.send(new PutObjectCommand({Bucket: BUCKET, Key, Body: 'x'}))
    await put('kc/account_id=111122223333/region=us-east-1/year=2026/month=01/2026-01-02_prod.snappy.parquet')
    await put('kc/account_id=111122223333/region=us-east-1/year=2026/month=01/notes.csv')
    await put('kc/README.md')
    await put('elsewhere/file.txt')
    const result = await deploy(['--prefix', 'kc', '--crawler-role-arn', ROLE, '--json'])
    assert.equal(result.code, 0, result.stderr)
    const json = JSON.parse(result.stdout) as DeployJson
    assert.deepEqual(json.foreignObjects.examples.sort(), [
      'kc/README.md',
      'kc/account_id=111122223333/region=us-east-1/year=2026/month=01/notes.csv',
    ])
    assert.equal(json.foreignObjects.count, 2)
    assert.match(
      result.stderr,
      /s3:\/\/kubecost-data-111122223333\/kc\/ holds 2 objects that are not exporter files; the crawler reads every object there/,
    )

    await put('clean/account_id=111122223333/region=eu-west-1/year=2026/month=12/2026-12-01_prod-eu.snappy.parquet')
    const clean = await deploy(['--prefix', 'clean', '--dry-run', '--json'])
    assert.equal(clean.code, 0, clean.stderr)
    assert.equal((JSON.parse(clean.stdout) as DeployJson).foreignObjects.count, 0)
    assert.doesNotMatch(clean.stderr, /not exporter files/)
  })

  it("an --s3-endpoint where nothing listens is named in the listing's failure, not the network path to AWS", async () => {
    const endpoint = await refusedUrl()
    const result = await runCli(
      ['deploy-glue', '--bucket', BUCKET, '--crawler-role-arn', ROLE, '--s3-endpoint', endpoint],
      {...TEST_ENV, ...fakes.glue.env, ...fakes.athena.env},
    )
    assert.equal(result.code, 1)
    assert.ok(
      result.stderr.includes(`Error: The connection to S3 at ${endpoint} failed: s3:ListBucket on s3://${BUCKET}/`),
      result.stderr,
    )
    assert.ok(
      result.stderr.includes(
        `Try: Nothing accepts connections at ${new URL(endpoint).host}: check the host and port in --s3-endpoint (S3_ENDPOINT_URL) "${endpoint}", and that the store is running.`,
      ),
      result.stderr,
    )
    assert.doesNotMatch(result.stderr, /VPC endpoint|NAT/)
  })

  it('a listing of the table location that fails after the catalog was written: what was written, then the error', async () => {
    const missing = 'kubecost-missing-111122223333'
    const run = async (extra: string[]) =>
      runCli(['deploy-glue', '--bucket', missing, '--s3-endpoint', fakes.s3.endpoint, ...extra], {
        ...TEST_ENV,
        ...fakes.glue.env,
        ...fakes.athena.env,
      })
    const result = await run(['--crawler-role-arn', ROLE])
    assert.equal(result.code, 1)
    assert.deepEqual(result.stdout.trim().split('\n'), [
      'database kubecost_db: created',
      'table kubecost_db.kubecost_table: created',
      'view kubecost_db.kubecost_view: created',
      'crawler kubecost_crawler: created',
    ])
    assert.match(result.stderr, new RegExp(`Error: Bucket not found: s3:ListBucket on s3://${missing}/ failed`))
    assert.deepEqual(fakes.glue.writes(), ['CreateDatabase', 'CreateTable', 'CreateTable', 'CreateCrawler'])

    const json = await run(['--labels', 'team', '--json'])
    assert.equal(json.code, 1)
    const body = partial(json.stdout)
    assert.deepEqual(
      body.resources.map(r => [r.kind, r.action]),
      [
        ['database', 'unchanged'],
        ['table', 'updated'],
        ['view', 'updated'],
        ['crawler', 'unchanged'],
      ],
    )
    assert.deepEqual(body.notApplied, [])
    assert.equal((body as {foreignObjects?: unknown}).foreignObjects, undefined)
  })

  it('access denied names the action, the resource and the identity: exit 1', async () => {
    assert.equal((await deploy(['--crawler-role-arn', ROLE])).code, 0)
    fakes.glue.fail('GetTable', 'AccessDeniedException')
    const result = await deploy([])
    assert.equal(result.code, 1)
    assert.match(
      result.stderr,
      /Error: Access denied: glue:GetTable on table kubecost_db\.kubecost_table as the access key in AWS_ACCESS_KEY_ID \(AccessDeniedException\)/,
    )
    assert.match(result.stderr, /Try: Allow glue:GetTable on table kubecost_db\.kubecost_table/)
  })

  it('access denied on a table the printed policy does not name says the name may be wrong; on the default, not', async () => {
    fakes.glue.fail('GetDatabase', 'AccessDeniedException')
    const database = await deploy(['--database', 'kubecost_dbb', '--crawler-role-arn', ROLE])
    assert.equal(database.code, 1)
    assert.match(
      database.stderr,
      /Try: database kubecost_dbb is not kubecost_db, the database the policy printed by iam-policy allows, and a name the policy does not allow is denied rather than reported missing: if kubecost_dbb is mistyped, correct --database \(GLUE_DATABASE\); if it is right, change database kubecost_db to kubecost_dbb in that policy's resources\./,
    )

    assert.equal((await deploy(['--crawler-role-arn', ROLE])).code, 0)
    fakes.glue.fail('GetTable', 'AccessDeniedException')
    const table = await deploy(['--table', 'kubecost_tbl'])
    assert.equal(table.code, 1)
    assert.match(
      table.stderr,
      /Try: table kubecost_tbl is not kubecost_table, .*: if kubecost_tbl is mistyped, correct --table \(GLUE_TABLE\);/,
    )
    fakes.glue.fail('GetCrawler', 'AccessDeniedException')
    const crawler = await deploy(['--crawler', 'nightly_crawler', '--crawler-role-arn', ROLE])
    assert.equal(crawler.code, 1)
    assert.match(
      crawler.stderr,
      /Try: crawler nightly_crawler is not kubecost_crawler, .*correct --crawler \(GLUE_CRAWLER\)/,
    )
    fakes.glue.fail('GetTable', 'AccessDeniedException')
    const usual = await deploy([])
    assert.equal(usual.code, 1)
    assert.doesNotMatch(usual.stderr, /is not kubecost_/)
  })

  it('throttling is retried by the SDK; concurrent modification is reported, exit 1', async () => {
    fakes.glue.fail('GetDatabase', 'ThrottlingException', 400, 2)
    const throttled = await deploy(['--crawler-role-arn', ROLE])
    assert.equal(throttled.code, 0, throttled.stderr)
    assert.equal(fakes.glue.requests.filter(r => r.op === 'GetDatabase').length, 3)

    fakes.glue.fail('UpdateTable', 'ConcurrentModificationException')
    const busy = await deploy(['--labels', 'team'])
    assert.equal(busy.code, 1)
    assert.match(
      busy.stderr,
      /Error: glue:UpdateTable on table kubecost_db\.kubecost_table failed: the resource is busy or was changed at the same time \(ConcurrentModificationException/,
    )
    assert.match(busy.stderr, /Try: Wait for the running crawl or the other change to finish/)
  })

  it('a crawler being updated while it runs: the table and view updates are reported, then the error, exit 1', async () => {
    assert.equal((await deploy(['--crawler-role-arn', ROLE])).code, 0)
    fakes.glue.crawl = {runPolls: 100, outcome: 'SUCCEEDED', forever: true}
    fakes.glue.startCrawl('kubecost_crawler')
    const args = ['--labels', 'team', '--crawler-schedule', 'cron(0 3 * * ? *)']
    const result = await deploy(args)
    assert.equal(result.code, 1)
    assert.deepEqual(result.stdout.trim().split('\n'), [
      'database kubecost_db: unchanged',
      'table kubecost_db.kubecost_table: updated (columns added: properties.labels.team)',
      'view kubecost_db.kubecost_view: updated (columns added: properties.labels.team; view columns added: properties.labels.team)',
      'crawler kubecost_crawler: not updated (schedule changed: cron(0 1 * * ? *) → cron(0 3 * * ? *))',
    ])
    assert.match(
      result.stderr,
      /Error: glue:UpdateCrawler on crawler kubecost_crawler failed: the resource is busy or was changed at the same time \(CrawlerRunningException/,
    )

    // Under --json the same, as data: the view is updated again (the columns are in), the crawler still not.
    const json = await deploy(['--labels', 'team,app', '--crawler-schedule', 'cron(0 3 * * ? *)', '--json'])
    assert.equal(json.code, 1)
    const body = partial(json.stdout)
    assert.deepEqual(
      body.resources.map(r => [r.kind, r.action]),
      [
        ['database', 'unchanged'],
        ['table', 'updated'],
        ['view', 'updated'],
      ],
    )
    assert.deepEqual(
      body.notApplied.map(r => [r.kind, r.action, r.changes]),
      [['crawler', 'updated', ['schedule changed: cron(0 1 * * ? *) → cron(0 3 * * ? *)']]],
    )
  })

  it("warns when the user's workgroup has no query result location, or does not exist", async () => {
    fakes.athena.workgroups.set('primary', {Name: 'primary', State: 'ENABLED', Configuration: {}})
    const result = await deploy(['--crawler-role-arn', ROLE, '--json'])
    assert.equal(result.code, 0, result.stderr)
    const json = JSON.parse(result.stdout) as DeployJson & {warnings: string[]}
    assert.match(
      json.warnings[0] ?? '',
      /^Athena workgroup primary has no query result location, so Athena and QuickSight queries in it fail/,
    )
    assert.match(result.stderr, /Athena workgroup primary has no query result location/)
    const missing = await deploy(['--athena-workgroup', 'analysts'])
    assert.equal(missing.code, 0, missing.stderr)
    assert.match(missing.stderr, /Athena workgroup analysts does not exist/)
    assert.deepEqual(fakes.athena.writes(), [])
  })

  it('--create-workgroup creates an enforced, encrypted workgroup, then leaves it alone or updates what differs', async () => {
    const args = [
      '--crawler-role-arn',
      ROLE,
      '--create-workgroup',
      'kubecost',
      '--results-location',
      's3://query-results-111122223333/kubecost',
    ]
    const first = await deploy(args)
    assert.equal(first.code, 0, first.stderr)
    assert.match(first.stdout, /^workgroup kubecost: created$/m)
    const input = fakes.athena.requests.find(r => r.op === 'CreateWorkGroup')?.body
    assert.deepEqual(input?.Configuration, {
      ResultConfiguration: {
        OutputLocation: 's3://query-results-111122223333/kubecost/',
        EncryptionConfiguration: {EncryptionOption: 'SSE_S3'},
      },
      EnforceWorkGroupConfiguration: true,
      PublishCloudWatchMetricsEnabled: true,
    })
    const second = await deploy([...args, '--json'])
    assert.equal(second.code, 0, second.stderr)
    assert.equal(actions(second.stdout).workgroup, 'unchanged')

    const key = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'
    const third = await deploy([...args, '--results-kms-key', key])
    assert.equal(third.code, 0, third.stderr)
    assert.match(
      third.stdout,
      new RegExp(`^workgroup kubecost: updated \\(encryption changed: SSE_S3 → SSE_KMS ${key}\\)$`, 'm'),
    )
    assert.deepEqual(fakes.athena.writes(), ['CreateWorkGroup', 'UpdateWorkGroup'])
  })

  it('--create-workgroup needs --results-location: exit 2', async () => {
    const result = await deploy(['--create-workgroup', 'kubecost'])
    assert.equal(result.code, 2)
    assert.match(result.stderr, /results-location/)
    const bad = await deploy(['--create-workgroup', 'kubecost', '--results-location', 'https://x'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /Invalid --results-location \(ATHENA_RESULTS_LOCATION\) "https:\/\/x"/)
  })

  it('access denied on Athena names the action and the identity: exit 1, nothing written', async () => {
    fakes.athena.fail('ListWorkGroups', 'AccessDeniedException')
    const result = await deploy(['--crawler-role-arn', ROLE])
    assert.equal(result.code, 1)
    assert.match(
      result.stderr,
      /Error: Access denied: athena:ListWorkGroups on workgroups as the access key in AWS_ACCESS_KEY_ID \(AccessDeniedException\)/,
    )
    assert.deepEqual(fakes.glue.writes(), [])
  })
})
