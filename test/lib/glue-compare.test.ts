import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {
  ColumnRemovalError,
  checkColumnRemoval,
  compareColumns,
  compareCrawler,
  compareTable,
} from '../../src/lib/glue/compare.js'
import {
  CRAWLER_CONFIGURATION,
  type DeployConfig,
  crawlerDefinition,
  encodeView,
  prestoView,
  tableDefinition,
  viewDefinition,
} from '../../src/lib/glue/definitions.js'

const CONFIG: DeployConfig = {
  bucket: 'b',
  prefix: 'p',
  extra: {labels: ['App'], annotations: []},
  database: 'db',
  table: 't',
  crawler: 'c',
  crawlerSchedule: 'cron(0 1 * * ? *)',
  view: 'v',
  viewMonths: 6,
}

/** What Glue returns for a table it stored: names lower-case, defaults and fields nobody sent. */
function asGlueReturns(def: ReturnType<typeof tableDefinition>) {
  const upper = (cols: Array<{Name: string; Type: string}>) =>
    cols.map(c => ({Name: c.Name.toLowerCase(), Type: c.Type.toUpperCase() === 'STRING' ? 'string' : c.Type}))
  return {
    ...def,
    CreateTime: new Date(),
    Parameters: {...def.Parameters, UPDATED_BY_CRAWLER: 'c'},
    StorageDescriptor: {
      ...def.StorageDescriptor,
      Columns: upper(def.StorageDescriptor.Columns),
      Location: def.StorageDescriptor.Location?.replace(/\/$/, ''),
      Compressed: false,
      NumberOfBuckets: -1,
    },
  }
}

describe('compareTable', () => {
  it('a table as Glue returns it (lower-case, defaults, extra parameters, no trailing slash) matches', () => {
    const wanted = tableDefinition(CONFIG)
    const result = compareTable(asGlueReturns(wanted), wanted)
    assert.deepEqual(result.changes, [])
    // Parameters others added are kept on update.
    assert.equal(result.update.Parameters.UPDATED_BY_CRAWLER, 'c')
  })

  it('names each difference', () => {
    const wanted = tableDefinition(CONFIG)
    const have = asGlueReturns(tableDefinition({...CONFIG, prefix: '', extra: {labels: ['old'], annotations: []}}))
    have.StorageDescriptor.InputFormat = 'x'
    const {changes, removed} = compareTable(have, wanted)
    assert.deepEqual(changes, [
      'location changed: s3://b → s3://b/p/',
      'input format changed',
      'columns added: properties.labels.app',
      'columns removed: properties.labels.old',
    ])
    assert.deepEqual(removed, ['properties.labels.old'])
  })

  it('a view compares its decoded definition: months and columns', () => {
    const wanted = viewDefinition(CONFIG)
    const have = {...viewDefinition({...CONFIG, viewMonths: 3, extra: {labels: [], annotations: []}})}
    const {changes} = compareTable(have, wanted)
    assert.ok(
      changes.some(
        c =>
          c.startsWith('view SQL changed:') &&
          c.includes("INTERVAL '3' MONTH") &&
          c.endsWith(`INTERVAL '6' MONTH) <= "window.start")`),
      ),
      changes.join('\n'),
    )
    assert.ok(changes.includes('view columns added: properties.labels.app'))
    assert.deepEqual(compareTable({...wanted, ViewOriginalText: encodeView(prestoView(CONFIG))}, wanted).changes, [])
    assert.deepEqual(compareTable({...wanted, ViewOriginalText: 'SELECT 1'}, wanted).changes, [
      'view definition is not an Athena (Presto) view',
    ])
  })
})

describe('compareColumns and checkColumnRemoval', () => {
  it('reports retyped and reordered columns', () => {
    const x = {Name: 'x', Type: 'string'}
    const y = {Name: 'y', Type: 'double'}
    assert.deepEqual(compareColumns([x, y], [{Name: 'x', Type: 'double'}, y]).changes, [
      'columns retyped: x (string → double)',
    ])
    assert.deepEqual(compareColumns([x, y], [y, x]).changes, ['columns reordered'])
  })

  it('refuses removal with exit 2 unless allowed', () => {
    assert.throws(
      () => checkColumnRemoval('db.t', ['properties.labels.team'], false),
      (e: unknown) => e instanceof ColumnRemovalError && e.exitCode === 2 && e.code === 'COLUMN_REMOVAL',
    )
    assert.doesNotThrow(() => checkColumnRemoval('db.t', ['properties.labels.team'], true))
    assert.doesNotThrow(() => checkColumnRemoval('db.t', [], false))
  })
})

describe('compareCrawler', () => {
  const wanted = crawlerDefinition(CONFIG, 'arn:aws:iam::111122223333:role/service-role/crawler')
  const same = {
    Role: 'crawler',
    Targets: {CatalogTargets: [{DatabaseName: 'DB', Tables: ['T']}], S3Targets: []},
    Schedule: {ScheduleExpression: 'cron(0 1 * * ? *)'},
    SchemaChangePolicy: {UpdateBehavior: 'LOG', DeleteBehavior: 'LOG'},
    Configuration: JSON.stringify(JSON.parse(CRAWLER_CONFIGURATION), null, 2),
  }

  it('matches a crawler Glue returns with the role by name and the configuration reformatted', () => {
    assert.deepEqual(compareCrawler(same, wanted), [])
  })

  it('names each difference', () => {
    const changes = compareCrawler(
      {
        ...same,
        Role: 'other',
        Targets: {CatalogTargets: [{DatabaseName: 'db', Tables: ['t', 'u']}]},
        Schedule: undefined,
        Configuration: '{"Version":1}',
      },
      wanted,
    )
    assert.deepEqual(changes, [
      'role changed: other → arn:aws:iam::111122223333:role/service-role/crawler',
      'target changed: → catalog table db.t',
      'schedule changed: none → cron(0 1 * * ? *)',
      'configuration changed',
    ])
  })
})
