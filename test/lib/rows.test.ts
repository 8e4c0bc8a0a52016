import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {parseClusterArn} from '../../src/lib/cluster.js'
import {KubecostResponseError} from '../../src/lib/errors.js'
import {NodeIndex} from '../../src/lib/nodes.js'
import {type Row, RowBuilder, type RowContext, readNumbers, resolveNodeFields, sanitizeKey} from '../../src/lib/rows.js'
import {type Column, NUMERIC_FIELDS, contractColumns} from '../../src/lib/schema.js'

const CLUSTER = parseClusterArn('arn:aws:eks:eu-west-1:111122223333:cluster/prod')
const DAY_START = Date.parse('2024-05-01T00:00:00Z')
const DAY_END = Date.parse('2024-05-02T00:00:00Z')

function context(extra: Partial<RowContext> = {}): RowContext {
  return {
    cluster: CLUSTER,
    labelKeys: [],
    annotationKeys: [],
    nodes: new NodeIndex(),
    windowStartMs: DAY_START,
    windowEndMs: DAY_END,
    ...extra,
  }
}

/** The row as column name → value, after checking it has exactly the contract's columns. */
function byColumn(row: Row | undefined, ctx: RowContext): Record<string, string | number> {
  assert.ok(row, 'expected a row')
  const columns = contractColumns({labels: ctx.labelKeys, annotations: ctx.annotationKeys})
  assert.equal(row.length, columns.length)
  const out: Record<string, string | number> = {}
  columns.forEach((c, i) => {
    const value = row[i] as string | number
    assert.equal(typeof value, c.type === 'string' ? 'string' : 'number', `${c.name} is ${c.type}`)
    out[c.name] = value
  })
  return out
}

function build(allocation: unknown, ctx = context(), key = 'the-key'): Record<string, string | number> {
  return byColumn(new RowBuilder(ctx).build(key, allocation), ctx)
}

/** A Kubecost 2.x container allocation, as /model/allocation returns it. */
function containerAllocation(): Record<string, unknown> {
  return {
    name: 'prod/ip-10-0-1-23.eu-west-1.compute.internal/payments/deployment/api/api-7d9f8-x2x4z/api',
    properties: {
      cluster: 'prod',
      node: 'ip-10-0-1-23.eu-west-1.compute.internal',
      container: 'api',
      controller: 'api',
      controllerKind: 'deployment',
      namespace: 'payments',
      pod: 'api-7d9f8-x2x4z',
      providerID: 'aws:///eu-west-1a/i-0123456789abcdef0',
      labels: {
        app: 'api',
        app_kubernetes_io_name: 'payments-api',
        node_kubernetes_io_instance_type: 'm6i.large',
        topology_kubernetes_io_region: 'eu-west-1',
        topology_kubernetes_io_zone: 'eu-west-1a',
        kubernetes_io_arch: 'amd64',
        kubernetes_io_os: 'linux',
        eks_amazonaws_com_capacityType: 'ON_DEMAND',
        eks_amazonaws_com_nodegroup: 'ng-1',
        eks_amazonaws_com_nodegroup_image: 'ami-0123',
      },
      annotations: {example_com_owner: 'team-a'},
    },
    window: {start: '2024-05-01T00:00:00Z', end: '2024-05-02T00:00:00Z'},
    start: '2024-05-01T00:00:00Z',
    end: '2024-05-02T00:00:00Z',
    minutes: 1440,
    cpuCores: 0.5,
    cpuCoreRequestAverage: 0.5,
    cpuCoreUsageAverage: 0.1,
    cpuCoreHours: 12,
    cpuCost: 0.24,
    cpuCostAdjustment: -0.01,
    cpuEfficiency: 0.2,
    gpuCount: 0,
    gpuHours: 0,
    gpuCost: 0,
    gpuCostAdjustment: 0,
    networkTransferBytes: 1000,
    networkReceiveBytes: 2000,
    networkCost: 0.001,
    networkCrossZoneCost: 0.0005,
    networkCrossRegionCost: 0,
    networkInternetCost: 0.0005,
    networkCostAdjustment: 0,
    loadBalancerCost: 0.6,
    loadBalancerCostAdjustment: 0,
    pvBytes: 1e9,
    pvByteHours: 2.4e10,
    pvCost: 0.03,
    pvCostAdjustment: 0,
    ramBytes: 1073741824,
    ramByteRequestAverage: 1073741824,
    ramByteUsageAverage: 536870912,
    ramByteHours: 25769803776,
    ramCost: 0.1,
    ramCostAdjustment: 0,
    ramEfficiency: 0.5,
    sharedCost: 0,
    externalCost: 0,
    totalCost: 0.971,
    totalEfficiency: 0.3,
    rawAllocationOnly: null,
    pvs: null,
    lbAllocations: null,
  }
}

function nodeIndex(...assets: Array<[string, Record<string, unknown>]>): NodeIndex {
  const index = new NodeIndex()
  for (const [key, asset] of assets) index.add(key, asset)
  return index
}

describe('sanitizeKey', () => {
  it('replaces every character Prometheus does not allow with _', () => {
    assert.equal(sanitizeKey('app.kubernetes.io/name'), 'app_kubernetes_io_name')
    assert.equal(sanitizeKey('eks.amazonaws.com/capacityType'), 'eks_amazonaws_com_capacityType')
    assert.equal(sanitizeKey('karpenter.sh/capacity-type'), 'karpenter_sh_capacity_type')
    assert.equal(sanitizeKey('team_name'), 'team_name')
    assert.equal(sanitizeKey('a-b.c/d'), 'a_b_c_d')
  })
})

describe('RowBuilder.build', () => {
  it('writes a full container allocation into the contract columns', () => {
    const ctx = context({labelKeys: ['app', 'app.kubernetes.io/name'], annotationKeys: ['example.com/owner']})
    const allocation = containerAllocation()
    const row = build(allocation, ctx)
    assert.equal(row.name, allocation.name)
    assert.equal(row['window.start'], DAY_START)
    assert.equal(row['window.end'], DAY_END)
    for (const field of NUMERIC_FIELDS) assert.equal(row[field], allocation[field], field)
    assert.deepEqual(Object.fromEntries(Object.entries(row).filter(([k]) => k.startsWith('properties.'))), {
      'properties.provider': 'AWS',
      'properties.region': 'eu-west-1',
      'properties.cluster': 'prod',
      'properties.clusterid': 'arn:aws:eks:eu-west-1:111122223333:cluster/prod',
      'properties.eksClusterName': 'prod',
      'properties.container': 'api',
      'properties.namespace': 'payments',
      'properties.pod': 'api-7d9f8-x2x4z',
      'properties.node': 'ip-10-0-1-23.eu-west-1.compute.internal',
      'properties.node_instance_type': 'm6i.large',
      'properties.node_availability_zone': 'eu-west-1a',
      'properties.node_capacity_type': 'ON_DEMAND',
      'properties.node_architecture': 'amd64',
      'properties.node_os': 'linux',
      'properties.node_nodegroup': 'ng-1',
      'properties.node_nodegroup_image': 'ami-0123',
      'properties.controller': 'api',
      'properties.controllerKind': 'deployment',
      'properties.providerID': 'aws:///eu-west-1a/i-0123456789abcdef0',
      'properties.labels.app': 'api',
      'properties.labels.app.kubernetes.io/name': 'payments-api',
      'properties.annotations.example.com/owner': 'team-a',
    })
  })

  it('has exactly as many values as contract columns, with and without labels and annotations', () => {
    for (const [labelKeys, annotationKeys] of [
      [[], []],
      [['a'], []],
      [[], ['b']],
      [
        ['a', 'b', 'c'],
        ['d', 'e'],
      ],
    ] as const) {
      const ctx = context({labelKeys, annotationKeys})
      const row = new RowBuilder(ctx).build('k', containerAllocation())
      assert.equal(row?.length, contractColumns({labels: labelKeys, annotations: annotationKeys}).length)
      const sparse = new RowBuilder(ctx).build('k', {name: 'x'})
      assert.equal(sparse?.length, 58 + labelKeys.length + annotationKeys.length)
    }
  })

  it('writes 0 for absent and null numbers, and ignores non-numbers', () => {
    const row = build({name: 'sparse', cpuCost: null, ramCost: '1.5', totalCost: 2, gpuCount: true, pvCost: {}})
    for (const field of NUMERIC_FIELDS) assert.equal(row[field], field === 'totalCost' ? 2 : 0, field)
  })

  it('reads every numeric field by its own name, into its own column, whatever the key order', () => {
    const values = Object.fromEntries(NUMERIC_FIELDS.map((field, i) => [field, i + 0.5]))
    const reversed = Object.fromEntries(Object.entries(values).reverse())
    const builder = new RowBuilder(context())
    for (const allocation of [
      {name: 'a', ...values},
      {...reversed, name: 'b'},
      {name: 'c', ...values},
    ]) {
      const row = byColumn(builder.build('k', allocation), context())
      for (const [i, field] of NUMERIC_FIELDS.entries()) assert.equal(row[field], i + 0.5, field)
    }

    const numbers: unknown[] = []
    readNumbers(values, numbers)
    assert.deepEqual(
      numbers,
      NUMERIC_FIELDS.map(field => values[field]),
    )
  })

  it('reads number columns outside the contract, and a reordered subset of it, from a column list', () => {
    const columns: Column[] = [
      {name: 'totalCost', type: 'double', source: {from: 'number', field: 'totalCost'}},
      {name: 'extra', type: 'double', source: {from: 'number', field: 'someNewCost'}},
      {name: 'minutes', type: 'double', source: {from: 'number', field: 'minutes'}},
    ]
    const builder = new RowBuilder(context({columns}))
    assert.deepEqual(builder.build('k', {name: 'x', minutes: 60, someNewCost: 1.25, totalCost: 9}), [9, 1.25, 60])
    assert.deepEqual(builder.build('k', {name: 'y', someNewCost: 'no'}), [0, 0, 0])
    assert.throws(() => builder.build('k', {name: 'z', someNewCost: Infinity}), /someNewCost = Infinity/)
  })

  it('refuses a number out of range (1e309 parses as Infinity), naming the allocation and the field', () => {
    const builder = new RowBuilder(context())
    for (const value of [Infinity, -Infinity, Number.NaN]) {
      assert.throws(
        () => builder.build('k', {name: 'ns/pod/c', totalCost: value}),
        (error: unknown) =>
          error instanceof KubecostResponseError &&
          error.summary ===
            `Kubecost reported totalCost = ${value} for allocation "ns/pod/c", a number out of range; the day is not written`,
      )
    }

    assert.throws(
      () => builder.build('k', JSON.parse('{"name": "x", "ramCost": 1e309}')),
      /ramCost = Infinity for allocation "x"/,
    )
  })

  it('keeps negative numbers and efficiencies above 1 unchanged', () => {
    const row = build({
      name: '__idle__',
      cpuCostAdjustment: -0.123456789,
      ramCostAdjustment: -5,
      totalCost: -0.5,
      cpuEfficiency: 3.75,
      ramEfficiency: 12.5,
      totalEfficiency: 1.0000001,
      minutes: 1440,
      ramBytes: 1.5e15,
      networkCost: 1e-12,
    })
    assert.equal(row.cpuCostAdjustment, -0.123456789)
    assert.equal(row.ramCostAdjustment, -5)
    assert.equal(row.totalCost, -0.5)
    assert.equal(row.cpuEfficiency, 3.75)
    assert.equal(row.ramEfficiency, 12.5)
    assert.equal(row.totalEfficiency, 1.0000001)
    assert.equal(row.ramBytes, 1.5e15)
    assert.equal(row.networkCost, 1e-12)
  })

  it('writes the empty string for absent strings, and the cluster identity on every row', () => {
    const row = build({name: 'bare'})
    const strings = Object.entries(row).filter(([k]) => k.startsWith('properties.'))
    assert.deepEqual(Object.fromEntries(strings), {
      'properties.provider': '',
      'properties.region': '',
      'properties.cluster': '',
      'properties.clusterid': 'arn:aws:eks:eu-west-1:111122223333:cluster/prod',
      'properties.eksClusterName': 'prod',
      'properties.container': '',
      'properties.namespace': '',
      'properties.pod': '',
      'properties.node': '',
      'properties.node_instance_type': '',
      'properties.node_availability_zone': '',
      'properties.node_capacity_type': '',
      'properties.node_architecture': '',
      'properties.node_os': '',
      'properties.node_nodegroup': '',
      'properties.node_nodegroup_image': '',
      'properties.controller': '',
      'properties.controllerKind': '',
      'properties.providerID': '',
    })
  })

  it('uses the ARN of any partition for clusterid and its name for eksClusterName', () => {
    const cluster = parseClusterArn('arn:aws-cn:eks:cn-north-1:123456789012:cluster/china_1')
    const row = build({name: 'x', properties: {cluster: 'kubecost-cluster-id'}}, context({cluster}))
    assert.equal(row['properties.clusterid'], 'arn:aws-cn:eks:cn-north-1:123456789012:cluster/china_1')
    assert.equal(row['properties.eksClusterName'], 'china_1')
    assert.equal(row['properties.cluster'], 'kubecost-cluster-id')
  })

  it('uses the key when the allocation has no name', () => {
    assert.equal(build({totalCost: 1}, context(), 'ns/pod').name, 'ns/pod')
    assert.equal(build({name: '', totalCost: 1}, context(), 'ns/pod').name, 'ns/pod')
  })

  it('keeps __idle__ and __unmounted__ as ordinary rows', () => {
    assert.equal(build({name: '__idle__', totalCost: 5}).totalCost, 5)
    assert.equal(build({name: '__unmounted__', pvCost: 1}).pvCost, 1)
  })

  it('returns undefined for {} placeholder entries and non-objects', () => {
    const builder = new RowBuilder(context())
    assert.equal(builder.build('', {}), undefined)
    assert.equal(builder.build('some-key', {}), undefined)
    assert.equal(builder.build('k', null), undefined)
    assert.equal(builder.build('k', undefined), undefined)
    assert.equal(builder.build('k', 5), undefined)
    assert.equal(builder.build('k', 'x'), undefined)
    assert.equal(builder.build('k', [1, 2]), undefined)
    assert.equal(builder.build('', {totalCost: 1}), undefined)
  })

  describe('window', () => {
    it('parses the allocation window to epoch milliseconds', () => {
      const row = build({name: 'x', window: {start: '2024-05-01T06:00:00Z', end: '2024-05-01T18:30:15.250Z'}})
      assert.equal(row['window.start'], Date.UTC(2024, 4, 1, 6))
      assert.equal(row['window.end'], Date.UTC(2024, 4, 1, 18, 30, 15, 250))
    })

    it('parses offsets', () => {
      const row = build({name: 'x', window: {start: '2024-05-01T02:00:00+02:00', end: '2024-05-01T19:00:00-05:00'}})
      assert.equal(row['window.start'], DAY_START)
      assert.equal(row['window.end'], DAY_END)
    })

    it('defaults to the day window when the window is missing, null or unparsable', () => {
      for (const window of [
        undefined,
        null,
        {},
        {start: null, end: null},
        {start: 'soon', end: ''},
        {start: 1714521600000, end: 1714608000000},
        'x',
      ]) {
        const row = build({name: 'x', window})
        assert.equal(row['window.start'], DAY_START, JSON.stringify(window))
        assert.equal(row['window.end'], DAY_END, JSON.stringify(window))
      }
    })

    it("parses each allocation's own window when one builder writes many", () => {
      const builder = new RowBuilder(context())
      const windows: Array<[unknown, number, number]> = [
        [
          {start: '2024-05-01T06:00:00Z', end: '2024-05-01T07:00:00Z'},
          Date.UTC(2024, 4, 1, 6),
          Date.UTC(2024, 4, 1, 7),
        ],
        [
          {start: '2024-05-01T06:00:00Z', end: '2024-05-01T07:00:00Z'},
          Date.UTC(2024, 4, 1, 6),
          Date.UTC(2024, 4, 1, 7),
        ],
        [{start: 'soon', end: 'later'}, DAY_START, DAY_END],
        [{start: 'soon', end: 'later'}, DAY_START, DAY_END],
        [{start: '2024-05-01T08:00:00Z'}, Date.UTC(2024, 4, 1, 8), DAY_END],
        [undefined, DAY_START, DAY_END],
        [
          {start: '2024-05-01T06:00:00Z', end: '2024-05-01T07:00:00Z'},
          Date.UTC(2024, 4, 1, 6),
          Date.UTC(2024, 4, 1, 7),
        ],
      ]
      for (const [i, [window, start, end]] of windows.entries()) {
        const row = byColumn(builder.build('k', {name: 'x', window}), context())
        assert.equal(row['window.start'], start, `row ${i}`)
        assert.equal(row['window.end'], end, `row ${i}`)
      }
    })

    it('defaults each end separately', () => {
      const row = build({name: 'x', window: {start: '2024-05-01T12:00:00Z'}})
      assert.equal(row['window.start'], Date.UTC(2024, 4, 1, 12))
      assert.equal(row['window.end'], DAY_END)
    })

    it('accepts a window of exactly the day or within it, and refuses one reaching outside it', () => {
      for (const window of [
        {start: '2024-05-01T00:00:00Z', end: '2024-05-02T00:00:00Z'},
        {start: '2024-05-01T00:00:00Z', end: '2024-05-01T00:00:00Z'},
        {start: '2024-05-01T23:00:00Z', end: '2024-05-02T00:00:00Z'},
        {end: '2024-05-01T12:00:00Z'},
      ]) {
        assert.ok(build({name: 'x', window}), JSON.stringify(window))
      }

      for (const [window, shown] of [
        [{start: '2024-04-30T00:00:00Z', end: '2024-05-01T00:00:00Z'}, '2024-04-30T00:00:00Z to 2024-05-01T00:00:00Z'],
        [{start: '2024-05-02T00:00:00Z', end: '2024-05-03T00:00:00Z'}, '2024-05-02T00:00:00Z to 2024-05-03T00:00:00Z'],
        [{start: '2024-05-02T00:00:00Z', end: '2024-05-02T00:00:00Z'}, '2024-05-02T00:00:00Z to 2024-05-02T00:00:00Z'],
        [{start: '2024-04-30T23:00:00Z', end: '2024-05-01T23:00:00Z'}, '2024-04-30T23:00:00Z to 2024-05-01T23:00:00Z'],
        [
          {start: '2024-05-01T00:00:00Z', end: '2024-05-02T00:00:00.001Z'},
          '2024-05-01T00:00:00Z to 2024-05-02T00:00:00.001Z',
        ],
        [{start: '2024-05-01T12:00:00Z', end: '2024-05-01T06:00:00Z'}, '2024-05-01T12:00:00Z to 2024-05-01T06:00:00Z'],
        // One end given, the other the day's: still outside.
        [{start: '2024-04-25T00:00:00Z'}, '2024-04-25T00:00:00Z to 2024-05-02T00:00:00Z'],
      ] as const) {
        assert.throws(
          () => new RowBuilder(context()).build('k', {name: 'ns/pod', window}),
          (error: unknown) =>
            error instanceof KubecostResponseError &&
            error.summary ===
              `Kubecost returned allocation "ns/pod" with the window ${shown}, not within the day asked for, 2024-05-01 (2024-05-01T00:00:00Z to 2024-05-02T00:00:00Z); the day is not written` &&
            /aligned to UTC midnight/.test(error.suggestions.join(' ')),
          JSON.stringify(window),
        )
      }
    })
  })

  describe('provider', () => {
    it('is AWS for a bare EC2 instance id', () => {
      assert.equal(build({name: 'x', properties: {providerID: 'i-0abc'}})['properties.provider'], 'AWS')
    })

    it('is AWS for aws:///<az>/i-…', () => {
      assert.equal(
        build({name: 'x', properties: {providerID: 'aws:///us-east-1a/i-0abc'}})['properties.provider'],
        'AWS',
      )
    })

    it('comes from the matched asset otherwise, and is empty without one', () => {
      const nodes = nodeIndex([
        'k',
        {type: 'Node', properties: {providerID: 'fargate-1', name: 'fargate-ip-1', provider: 'custom'}},
      ])
      assert.equal(
        build({name: 'x', properties: {providerID: 'fargate-1'}}, context({nodes}))['properties.provider'],
        'custom',
      )
      assert.equal(build({name: 'x', properties: {providerID: 'fargate-2'}})['properties.provider'], '')
      assert.equal(build({name: 'x', properties: {providerID: 'gce://p/z/n'}})['properties.provider'], '')
    })
  })

  describe('node fields', () => {
    const assetKey = 'AWS/111122223333/__undefined__/Compute/prod/Node/Kubernetes/aws:///eu-west-1b/i-0fff/ip-10-0-9-9'
    const asset = {
      type: 'Node',
      properties: {provider: 'AWS'},
      nodeType: 'c7g.xlarge',
      labels: {
        label_node_kubernetes_io_instance_type: 'c7g.2xlarge',
        label_topology_kubernetes_io_region: 'eu-west-1',
        label_topology_kubernetes_io_zone: 'eu-west-1b',
        label_kubernetes_io_arch: 'arm64',
        label_kubernetes_io_os: 'linux',
        label_karpenter_sh_capacity_type: 'spot',
        label_karpenter_sh_nodepool: 'default',
        label_karpenter_k8s_aws_instance_ami_id: 'ami-0fff',
      },
    }

    it('come from the Assets API node when the allocation labels lack them (joined by bare instance id)', () => {
      const ctx = context({nodes: nodeIndex([assetKey, asset])})
      const row = build({name: 'x', properties: {providerID: 'i-0fff', node: 'ip-10-0-9-9'}}, ctx)
      assert.equal(row['properties.node_instance_type'], 'c7g.2xlarge')
      assert.equal(row['properties.region'], 'eu-west-1')
      assert.equal(row['properties.node_availability_zone'], 'eu-west-1b')
      assert.equal(row['properties.node_architecture'], 'arm64')
      assert.equal(row['properties.node_os'], 'linux')
      assert.equal(row['properties.node_capacity_type'], 'spot')
      assert.equal(row['properties.node_nodegroup'], 'default')
      assert.equal(row['properties.node_nodegroup_image'], 'ami-0fff')
      assert.equal(row['properties.provider'], 'AWS')
      assert.equal(row['properties.providerID'], 'i-0fff')
    })

    it('come from the node matched by name when the allocation has no providerID', () => {
      const ctx = context({nodes: nodeIndex([assetKey, asset])})
      const row = build({name: 'x', properties: {cluster: 'prod', node: 'ip-10-0-9-9'}}, ctx)
      assert.equal(row['properties.node_availability_zone'], 'eu-west-1b')
      assert.equal(row['properties.provider'], 'AWS')
      assert.equal(row['properties.providerID'], '')
    })

    it("never come from another cluster's node of the same name", () => {
      const ctx = context({nodes: nodeIndex([assetKey, asset])})
      const row = build({name: 'x', properties: {cluster: 'staging', node: 'ip-10-0-9-9'}}, ctx)
      assert.equal(row['properties.node_availability_zone'], '')
      assert.equal(row['properties.provider'], '')
    })

    it('allocation labels win over asset labels, field by field', () => {
      const ctx = context({nodes: nodeIndex([assetKey, asset])})
      const row = build(
        {
          name: 'x',
          properties: {
            providerID: 'aws:///eu-west-1b/i-0fff',
            labels: {
              node_kubernetes_io_instance_type: 'm7g.large',
              karpenter_sh_capacity_type: 'on-demand',
              karpenter_sh_nodepool: '',
            },
          },
        },
        ctx,
      )
      assert.equal(row['properties.node_instance_type'], 'm7g.large')
      assert.equal(row['properties.node_capacity_type'], 'on-demand')
      assert.equal(row['properties.node_nodegroup'], 'default') // an empty allocation label does not count
      assert.equal(row['properties.node_availability_zone'], 'eu-west-1b')
    })

    it('fall back to the asset nodeType for the instance type', () => {
      const bare = {
        type: 'Node',
        properties: {providerID: 'i-0eee', name: 'n'},
        nodeType: 't3.medium',
        labels: {label_kubernetes_io_os: 'linux'},
      }
      const ctx = context({nodes: nodeIndex(['k', bare])})
      const row = build({name: 'x', properties: {providerID: 'i-0eee'}}, ctx)
      assert.equal(row['properties.node_instance_type'], 't3.medium')
      assert.equal(row['properties.node_os'], 'linux')
      assert.equal(row['properties.node_architecture'], '')
    })

    it('use the beta labels when the stable ones are absent', () => {
      const row = build({
        name: 'x',
        properties: {
          labels: {
            beta_kubernetes_io_instance_type: 'm4.large',
            failure_domain_beta_kubernetes_io_region: 'us-east-1',
            failure_domain_beta_kubernetes_io_zone: 'us-east-1c',
            beta_kubernetes_io_arch: 'amd64',
            beta_kubernetes_io_os: 'linux',
          },
        },
      })
      assert.equal(row['properties.node_instance_type'], 'm4.large')
      assert.equal(row['properties.region'], 'us-east-1')
      assert.equal(row['properties.node_availability_zone'], 'us-east-1c')
      assert.equal(row['properties.node_architecture'], 'amd64')
      assert.equal(row['properties.node_os'], 'linux')
    })

    it('EKS capacityType wins over Karpenter capacity-type, never concatenated', () => {
      const row = build({
        name: 'x',
        properties: {labels: {karpenter_sh_capacity_type: 'spot', eks_amazonaws_com_capacityType: 'ON_DEMAND'}},
      })
      assert.equal(row['properties.node_capacity_type'], 'ON_DEMAND')
      const karpenter = build({name: 'x', properties: {labels: {karpenter_sh_capacity_type: 'spot'}}})
      assert.equal(karpenter['properties.node_capacity_type'], 'spot')
    })

    it('EKS nodegroup, then Karpenter nodepool, then provisioner-name', () => {
      const all = {
        eks_amazonaws_com_nodegroup: 'ng',
        karpenter_sh_nodepool: 'pool',
        karpenter_sh_provisioner_name: 'prov',
      }
      assert.equal(build({name: 'x', properties: {labels: all}})['properties.node_nodegroup'], 'ng')
      assert.equal(
        build({
          name: 'x',
          properties: {labels: {karpenter_sh_nodepool: 'pool', karpenter_sh_provisioner_name: 'prov'}},
        })['properties.node_nodegroup'],
        'pool',
      )
      assert.equal(
        build({name: 'x', properties: {labels: {karpenter_sh_provisioner_name: 'prov'}}})['properties.node_nodegroup'],
        'prov',
      )
    })

    it('EKS nodegroup-image, then Karpenter instance-ami-id', () => {
      assert.equal(
        build({
          name: 'x',
          properties: {
            labels: {eks_amazonaws_com_nodegroup_image: 'ami-1', karpenter_k8s_aws_instance_ami_id: 'ami-2'},
          },
        })['properties.node_nodegroup_image'],
        'ami-1',
      )
      assert.equal(
        build({name: 'x', properties: {labels: {karpenter_k8s_aws_instance_ami_id: 'ami-2'}}})[
          'properties.node_nodegroup_image'
        ],
        'ami-2',
      )
    })

    it('resolveNodeFields gives every field, empty when unknown', () => {
      assert.deepEqual(resolveNodeFields({}, undefined), {
        region: '',
        node_instance_type: '',
        node_availability_zone: '',
        node_capacity_type: '',
        node_architecture: '',
        node_os: '',
        node_nodegroup: '',
        node_nodegroup_image: '',
      })
    })
  })

  describe('label and annotation columns', () => {
    it('are looked up by sanitised key, in the order given', () => {
      const ctx = context({
        labelKeys: ['team', 'app.kubernetes.io/name', 'app'],
        annotationKeys: ['example.com/cost-center', 'owner'],
      })
      const row = new RowBuilder(ctx).build('k', {
        name: 'x',
        properties: {
          labels: {app: 'web', app_kubernetes_io_name: 'shop', team: 'blue', other: 'ignored'},
          annotations: {owner: 'alice', example_com_cost_center: 'cc-42'},
        },
      })
      assert.ok(row)
      assert.deepEqual(row.slice(58), ['blue', 'shop', 'web', 'cc-42', 'alice'])
    })

    it('fall back to the key as written, and are empty when absent', () => {
      const ctx = context({labelKeys: ['app.kubernetes.io/name', 'missing'], annotationKeys: ['a/b']})
      const row = new RowBuilder(ctx).build('k', {
        name: 'x',
        properties: {labels: {'app.kubernetes.io/name': 'raw'}, annotations: {}},
      })
      assert.deepEqual(row?.slice(58), ['raw', '', ''])
    })

    it('prefer the sanitised key over the key as written', () => {
      const ctx = context({labelKeys: ['app.kubernetes.io/name']})
      const row = new RowBuilder(ctx).build('k', {
        name: 'x',
        properties: {labels: {'app.kubernetes.io/name': 'raw', app_kubernetes_io_name: 'sanitised'}},
      })
      assert.deepEqual(row?.slice(58), ['sanitised'])
    })

    it('are empty when the allocation has no labels or annotations object', () => {
      const ctx = context({labelKeys: ['app'], annotationKeys: ['owner']})
      for (const properties of [
        undefined,
        {},
        {labels: null, annotations: null},
        {labels: 'app=web', annotations: ['owner']},
      ]) {
        assert.deepEqual(
          new RowBuilder(ctx).build('k', {name: 'x', properties})?.slice(58),
          ['', ''],
          JSON.stringify(properties),
        )
      }
    })

    it('write numbers and booleans as strings, and other values as empty', () => {
      const ctx = context({labelKeys: ['n', 'b', 'o', 'z']})
      const row = new RowBuilder(ctx).build('k', {
        name: 'x',
        properties: {labels: {n: 3, b: false, o: {x: 1}, z: null}},
      })
      assert.deepEqual(row?.slice(58), ['3', 'false', '', ''])
    })

    it('do not pick up node labels from the Assets API', () => {
      const nodes = nodeIndex([
        'k',
        {type: 'Node', properties: {providerID: 'i-0abc', name: 'n'}, labels: {label_app: 'from-node'}},
      ])
      const ctx = context({labelKeys: ['app'], nodes})
      const row = new RowBuilder(ctx).build('k', {name: 'x', properties: {providerID: 'i-0abc'}})
      assert.deepEqual(row?.slice(58), [''])
    })
  })
})
