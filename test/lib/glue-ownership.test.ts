import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {
  type DeployConfig,
  crawlerDefinition,
  encodeView,
  tableDefinition,
  viewDefinition,
  viewSql,
} from '../../src/lib/glue/definitions.js'
import {
  crawlerOwnership,
  databaseOwnership,
  tableOwnership,
  viewOwnership,
  workgroupOwnership,
} from '../../src/lib/glue/ownership.js'
import {contractColumns} from '../../src/lib/schema.js'

const CONFIG: DeployConfig = {
  bucket: 'kubecost-data',
  prefix: 'kc',
  extra: {labels: ['app'], annotations: []},
  database: 'kubecost_db',
  table: 'kubecost_table',
  crawler: 'kubecost_crawler',
  crawlerSchedule: 'cron(0 1 * * ? *)',
  view: 'kubecost_view',
  viewMonths: 6,
}
const NAMES = contractColumns({labels: [], annotations: []}).map(c => c.name.toLowerCase())
const unmarked = <T extends {Parameters?: Record<string, string>}>(o: T): T => ({
  ...o,
  Parameters: Object.fromEntries(Object.entries(o.Parameters ?? {}).filter(([key]) => key !== 'managed-by')),
})

describe('ownership', () => {
  it('a table as deploy-glue writes it is ours, marked or not; Glue lower-cases and adds what it likes', () => {
    const table = tableDefinition(CONFIG)
    assert.deepEqual(tableOwnership(table, table, NAMES), {ours: true, marked: true, reasons: []})
    const upper = {...unmarked(table), TableType: 'external_table'}
    assert.deepEqual(tableOwnership(upper, table, NAMES), {ours: true, marked: false, reasons: []})
  })

  it('an unmarked table must hold the exporter columns and partition keys; a marked one need not', () => {
    const table = tableDefinition(CONFIG)
    const thin = {...table, StorageDescriptor: {...table.StorageDescriptor, Columns: [{Name: 'name', Type: 'string'}]}}
    assert.equal(tableOwnership(thin, table, NAMES).ours, true)
    const theirs = tableOwnership({...unmarked(thin), PartitionKeys: [{Name: 'dt', Type: 'string'}]}, table, NAMES)
    assert.equal(theirs.ours, false)
    assert.deepEqual(theirs.reasons.slice(0, 2), [
      'it has no managed-by=kubecost-cid parameter',
      'its partition keys are (dt), not (account_id, region, year, month)',
    ])
    assert.match(
      theirs.reasons[2] ?? '',
      /^it lacks 57 of the exporter's columns \(window\.start, window\.end, minutes, …\)$/,
    )
  })

  it('the location decides, with or without a trailing slash', () => {
    const table = tableDefinition(CONFIG)
    const slashless = {...table, StorageDescriptor: {...table.StorageDescriptor, Location: 's3://kubecost-data/kc'}}
    assert.equal(tableOwnership(slashless, table, NAMES).ours, true)
    const other = {...table, StorageDescriptor: {...table.StorageDescriptor, Location: 's3://kubecost-data/'}}
    assert.deepEqual(tableOwnership(other, table, NAMES).reasons, [
      'it reads s3://kubecost-data/, not s3://kubecost-data/kc/',
    ])
  })

  it("a view over the table with any number of months is ours; other SQL, or another table's, is not", () => {
    const view = viewDefinition(CONFIG)
    assert.equal(viewOwnership(unmarked(view), 'kubecost_db', 'kubecost_table').ours, true)
    const withSql = (sql: string) => ({
      ...view,
      ViewOriginalText: encodeView({originalSql: sql, catalog: 'awsdatacatalog', schema: 'kubecost_db', columns: []}),
    })
    assert.equal(
      viewOwnership(withSql(viewSql('kubecost_db', 'kubecost_table', 13)), 'kubecost_db', 'kubecost_table').ours,
      true,
    )
    assert.equal(
      viewOwnership(withSql(viewSql('kubecost_db', 'other', 6)), 'kubecost_db', 'kubecost_table').ours,
      false,
    )
    assert.equal(
      viewOwnership(
        withSql(`${viewSql('kubecost_db', 'kubecost_table', 6)} AND namespace = 'x'`),
        'kubecost_db',
        'kubecost_table',
      ).ours,
      false,
    )
    assert.deepEqual(viewOwnership({...view, ViewOriginalText: 'SELECT 1'}, 'kubecost_db', 'kubecost_table').reasons, [
      'it is not an Athena (Presto) view',
    ])
  })

  it('a crawler of the table only: another target beside it makes it foreign', () => {
    const wanted = crawlerDefinition(CONFIG, 'role')
    const existing = {
      Role: 'role',
      Targets: {CatalogTargets: [{DatabaseName: 'kubecost_db', Tables: ['kubecost_table']}]},
      SchemaChangePolicy: {UpdateBehavior: 'LOG', DeleteBehavior: 'LOG'},
      Configuration: wanted.Configuration,
    }
    assert.deepEqual(crawlerOwnership(existing, {}, wanted), {ours: true, marked: false, reasons: []})
    const more = {...existing, Targets: {...existing.Targets, JdbcTargets: [{ConnectionName: 'pg'}]}}
    assert.deepEqual(crawlerOwnership(more, {'managed-by': 'kubecost-cid'}, wanted).reasons, [
      'it crawls catalog table kubecost_db.kubecost_table, JdbcTargets, not only the table kubecost_db.kubecost_table',
    ])
    const policy = {...existing, SchemaChangePolicy: {UpdateBehavior: 'UPDATE_IN_DATABASE', DeleteBehavior: 'LOG'}}
    assert.equal(crawlerOwnership(policy, {}, wanted).ours, false)
    assert.equal(crawlerOwnership(policy, {'managed-by': 'kubecost-cid'}, wanted).ours, true)
  })

  it('a database is ours when marked or holding our table; a workgroup when tagged or made by an earlier version', () => {
    assert.equal(databaseOwnership(undefined, true).ours, true)
    assert.equal(databaseOwnership({'managed-by': 'kubecost-cid'}, false).ours, true)
    assert.equal(databaseOwnership({'managed-by': 'cdk'}, true).ours, false)
    assert.equal(
      workgroupOwnership({description: 'Kubecost data for the Cloud Intelligence Dashboards', enforced: true}, {}).ours,
      true,
    )
    assert.equal(
      workgroupOwnership({description: 'Kubecost data for the Cloud Intelligence Dashboards'}, {}).ours,
      false,
    )
    assert.equal(workgroupOwnership({}, {'managed-by': 'kubecost-cid'}).ours, true)
  })
})
