import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {BASE_COLUMNS, NUMERIC_FIELDS, PROPERTY_FIELDS, contractColumns} from '../../src/lib/schema.js'

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
      BASE_COLUMNS.map((c) => [c.name, c.type]),
      EXPECTED_BASE,
    )
  })

  it('has no duplicate column names', () => {
    assert.equal(new Set(BASE_COLUMNS.map((c) => c.name)).size, 58)
  })

  it('NUMERIC_FIELDS and PROPERTY_FIELDS match the double and properties.* columns', () => {
    assert.deepEqual([...NUMERIC_FIELDS], EXPECTED_BASE.slice(3, 39).map(([n]) => n))
    assert.deepEqual(PROPERTY_FIELDS.map((f) => `properties.${f}`), EXPECTED_BASE.slice(39).map(([n]) => n))
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
    assert.deepEqual(columns.slice(58), [
      {name: 'properties.labels.team', type: 'string'},
      {name: 'properties.labels.app.kubernetes.io/name', type: 'string'},
      {name: 'properties.labels.app', type: 'string'},
      {name: 'properties.annotations.owner', type: 'string'},
      {name: 'properties.annotations.example.com/cost-center', type: 'string'},
    ])
  })

  it('appends annotations even without labels', () => {
    assert.deepEqual(contractColumns({labels: [], annotations: ['a']}).slice(58), [{name: 'properties.annotations.a', type: 'string'}])
  })

  it('returns a fresh array each time (callers cannot corrupt the base)', () => {
    const columns = contractColumns({labels: [], annotations: []})
    columns.push({name: 'x', type: 'string'})
    assert.equal(contractColumns({labels: [], annotations: []}).length, 58)
    assert.equal(BASE_COLUMNS.length, 58)
  })
})
