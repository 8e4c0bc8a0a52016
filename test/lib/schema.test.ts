import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {parseClusterArn} from '../../src/lib/cluster.js'
import {NodeIndex} from '../../src/lib/nodes.js'
import {ParquetWriter} from '../../src/lib/parquet/writer.js'
import {RowBuilder} from '../../src/lib/rows.js'
import {
  BASE_COLUMNS,
  type Column,
  type ColumnShape,
  NUMERIC_FIELDS,
  PROPERTY_FIELDS,
  contractColumns,
  glueColumns,
} from '../../src/lib/schema.js'
import {tempDir} from '../helpers.js'
import {readParquet} from '../parquet.js'

const shapes = (columns: readonly ColumnShape[]) => columns.map(({name, type}) => ({name, type}))

/** SPEC.md, "Output: the Parquet contract", written out by hand. */
const EXPECTED_BASE: Array<[string, string]> = [
  ['name', 'string'],
  ['window.start', 'timestamp'],
  ['window.end', 'timestamp'],
  ['minutes', 'double'],
  ['cpuCores', 'double'],
  ['cpuCoreRequestAverage', 'double'],
  ['cpuCoreUsageAverage', 'double'],
  ['cpuCoreHours', 'double'],
  ['cpuCost', 'double'],
  ['cpuCostAdjustment', 'double'],
  ['cpuEfficiency', 'double'],
  ['gpuCount', 'double'],
  ['gpuHours', 'double'],
  ['gpuCost', 'double'],
  ['gpuCostAdjustment', 'double'],
  ['networkTransferBytes', 'double'],
  ['networkReceiveBytes', 'double'],
  ['networkCost', 'double'],
  ['networkCrossZoneCost', 'double'],
  ['networkCrossRegionCost', 'double'],
  ['networkInternetCost', 'double'],
  ['networkCostAdjustment', 'double'],
  ['loadBalancerCost', 'double'],
  ['loadBalancerCostAdjustment', 'double'],
  ['pvBytes', 'double'],
  ['pvByteHours', 'double'],
  ['pvCost', 'double'],
  ['pvCostAdjustment', 'double'],
  ['ramBytes', 'double'],
  ['ramByteRequestAverage', 'double'],
  ['ramByteUsageAverage', 'double'],
  ['ramByteHours', 'double'],
  ['ramCost', 'double'],
  ['ramCostAdjustment', 'double'],
  ['ramEfficiency', 'double'],
  ['sharedCost', 'double'],
  ['externalCost', 'double'],
  ['totalCost', 'double'],
  ['totalEfficiency', 'double'],
  ['properties.provider', 'string'],
  ['properties.region', 'string'],
  ['properties.cluster', 'string'],
  ['properties.clusterid', 'string'],
  ['properties.eksClusterName', 'string'],
  ['properties.container', 'string'],
  ['properties.namespace', 'string'],
  ['properties.pod', 'string'],
  ['properties.node', 'string'],
  ['properties.node_instance_type', 'string'],
  ['properties.node_availability_zone', 'string'],
  ['properties.node_capacity_type', 'string'],
  ['properties.node_architecture', 'string'],
  ['properties.node_os', 'string'],
  ['properties.node_nodegroup', 'string'],
  ['properties.node_nodegroup_image', 'string'],
  ['properties.controller', 'string'],
  ['properties.controllerKind', 'string'],
  ['properties.providerID', 'string'],
]

describe('schema', () => {
  it('the expected list itself has 1 + 2 + 36 + 19 = 58 columns', () => {
    assert.equal(EXPECTED_BASE.length, 58)
    assert.equal(EXPECTED_BASE.filter(([, t]) => t === 'double').length, 36)
    assert.equal(EXPECTED_BASE.filter(([n]) => n.startsWith('properties.')).length, 19)
  })

  it('has exactly the 58 base columns of the SPEC, in order, with their types', () => {
    assert.equal(BASE_COLUMNS.length, 58)
    assert.deepEqual(
      BASE_COLUMNS.map(c => [c.name, c.type]),
      EXPECTED_BASE,
    )
  })

  it('has no duplicate column names', () => {
    assert.equal(new Set(BASE_COLUMNS.map(c => c.name)).size, 58)
  })

  it('NUMERIC_FIELDS and PROPERTY_FIELDS match the double and properties.* columns', () => {
    assert.deepEqual(
      [...NUMERIC_FIELDS],
      EXPECTED_BASE.slice(3, 39).map(([n]) => n),
    )
    assert.deepEqual(
      PROPERTY_FIELDS.map(f => `properties.${f}`),
      EXPECTED_BASE.slice(39).map(([n]) => n),
    )
  })

  it('contractColumns without labels or annotations is the base columns', () => {
    assert.deepEqual(contractColumns({labels: [], annotations: []}), [...BASE_COLUMNS])
  })

  it('appends label then annotation columns, in the order given, with the keys as written', () => {
    const columns = contractColumns({
      labels: ['team', 'app.kubernetes.io/name', 'app'],
      annotations: ['owner', 'example.com/cost-center'],
    })
    assert.equal(columns.length, 63)
    assert.deepEqual(columns.slice(0, 58), [...BASE_COLUMNS])
    assert.deepEqual(shapes(columns.slice(58)), [
      {name: 'properties.labels.team', type: 'string'},
      {name: 'properties.labels.app.kubernetes.io/name', type: 'string'},
      {name: 'properties.labels.app', type: 'string'},
      {name: 'properties.annotations.owner', type: 'string'},
      {name: 'properties.annotations.example.com/cost-center', type: 'string'},
    ])
  })

  it('appends annotations even without labels', () => {
    assert.deepEqual(shapes(contractColumns({labels: [], annotations: ['a']}).slice(58)), [
      {name: 'properties.annotations.a', type: 'string'},
    ])
  })

  it('returns a fresh array each time (callers cannot corrupt the base)', () => {
    const columns = contractColumns({labels: [], annotations: []})
    columns.push({name: 'x', type: 'string', source: {from: 'computed', value: () => ''}})
    assert.equal(contractColumns({labels: [], annotations: []}).length, 58)
    assert.equal(BASE_COLUMNS.length, 58)
  })
})

describe('the column list drives rows, the Parquet schema and the Glue columns', () => {
  const cluster = parseClusterArn('arn:aws:eks:us-east-1:111122223333:cluster/prod')
  // A copy of the contract with one column added in the middle and one moved: everything follows.
  const extra: Column = {
    name: 'properties.team',
    type: 'string',
    source: {from: 'computed', value: row => `team-of-${row.name}`},
  }
  const [first, ...rest] = contractColumns({labels: ['app'], annotations: []})
  const columns = [...rest.slice(0, 10), extra, ...rest.slice(10), first as Column]

  it('the row builder writes every column of the list, in its order', () => {
    const builder = new RowBuilder({
      cluster,
      labelKeys: [],
      annotationKeys: [],
      nodes: new NodeIndex(),
      windowStartMs: 0,
      windowEndMs: 1,
      columns,
    })
    const row = builder.build('k', {name: 'ns/pod/c', totalCost: 2.5, properties: {labels: {app: 'web'}}})
    assert.equal(row?.length, columns.length)
    assert.equal(row[10], 'team-of-ns/pod/c')
    assert.equal(row.at(-1), 'ns/pod/c')
    assert.equal(row[columns.findIndex(c => c.name === 'totalCost')], 2.5)
    assert.equal(row[columns.findIndex(c => c.name === 'properties.labels.app')], 'web')
  })

  it('the Parquet writer writes that schema', async () => {
    const dir = await tempDir()
    try {
      const path = `${dir.path}/x.parquet`
      const writer = new ParquetWriter(columns)
      const builder = new RowBuilder({
        cluster,
        labelKeys: [],
        annotationKeys: [],
        nodes: new NodeIndex(),
        windowStartMs: 0,
        windowEndMs: 1,
        columns,
      })
      writer.open(path)
      builder.write('k', {name: 'a'}, writer)
      writer.finish()
      const facts = await readParquet(path)
      assert.deepEqual(
        facts.schema.map(c => c.name).filter(n => n !== 'duckdb_schema'),
        columns.map(c => c.name),
      )
      assert.equal(facts.rows[0]?.['properties.team'], 'team-of-a')
    } finally {
      await dir.remove()
    }
  })

  it('the Glue columns are the list, lower-cased, with Hive types', () => {
    const glue = glueColumns(columns)
    assert.equal(glue.length, columns.length)
    assert.deepEqual(glue[10], {Name: 'properties.team', Type: 'string'})
    assert.deepEqual(glue.at(-1), {Name: 'name', Type: 'string'})
    assert.deepEqual(glueColumns(BASE_COLUMNS).slice(0, 4), [
      {Name: 'name', Type: 'string'},
      {Name: 'window.start', Type: 'timestamp'},
      {Name: 'window.end', Type: 'timestamp'},
      {Name: 'minutes', Type: 'double'},
    ])
    assert.ok(glueColumns(BASE_COLUMNS).some(c => c.Name === 'properties.eksclustername'))
  })
})
