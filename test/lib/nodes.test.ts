import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {NodeIndex, isEc2ProviderId, joinKey} from '../../src/lib/nodes.js'

/** An unaggregated Kubecost asset key: provider/account/project/category/cluster/type/service/providerID/name. */
function assetKey(providerID: string, name: string): string {
  return `AWS/111122223333/__undefined__/Compute/prod/Node/Kubernetes/${providerID}/${name}`
}

function nodeAsset(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'Node',
    properties: {
      category: 'Compute',
      provider: 'AWS',
      cluster: 'prod',
      name: 'ip-10-0-1-23.ec2.internal',
      providerID: 'i-0abc',
    },
    labels: {
      label_node_kubernetes_io_instance_type: 'm5.large',
      label_topology_kubernetes_io_zone: 'us-east-1a',
      label_eks_amazonaws_com_capacityType: 'ON_DEMAND',
    },
    nodeType: 'm5.large',
    totalCost: 2.3,
    ...extra,
  }
}

describe('joinKey', () => {
  it('reduces an AWS providerID to the bare instance id', () => {
    assert.equal(joinKey('aws:///us-east-1a/i-0123456789abcdef0'), 'i-0123456789abcdef0')
    assert.equal(joinKey('i-0123456789abcdef0'), 'i-0123456789abcdef0')
  })

  it('leaves other providerIDs unchanged', () => {
    assert.equal(joinKey('gce://project/us-central1-a/node-1'), 'gce://project/us-central1-a/node-1')
    assert.equal(joinKey('azure:///subscriptions/x/vm-1'), 'azure:///subscriptions/x/vm-1')
    assert.equal(joinKey('fargate-ip-10-0-0-1'), 'fargate-ip-10-0-0-1')
    assert.equal(joinKey(''), '')
  })
})

describe('isEc2ProviderId', () => {
  it('recognises i-… and aws:///<az>/i-…', () => {
    assert.equal(isEc2ProviderId('i-0abc'), true)
    assert.equal(isEc2ProviderId('i-0123456789abcdef0'), true)
    assert.equal(isEc2ProviderId('aws:///us-east-1a/i-0123456789abcdef0'), true)
    assert.equal(isEc2ProviderId('aws:///use1-az1/i-0abc'), true)
  })

  it('rejects everything else', () => {
    for (const id of [
      '',
      'i-',
      'i-XYZ',
      'node-1',
      'aws:///i-0abc',
      'aws://us-east-1a/i-0abc',
      'gce://p/z/i-0abc',
      'x-i-0abc',
      'aws:///us-east-1a/i-0abc/extra',
      'fargate-ip-10-0-0-1',
    ]) {
      assert.equal(isEc2ProviderId(id), false, id)
    }
  })
})

describe('NodeIndex', () => {
  it('ignores assets that are not nodes', () => {
    const index = new NodeIndex()
    assert.equal(index.add('k1', {type: 'Disk', properties: {providerID: 'vol-1', name: 'vol-1'}}), false)
    assert.equal(index.add('k2', {type: 'LoadBalancer', properties: {providerID: 'lb-1', name: 'lb'}}), false)
    assert.equal(index.add('k3', {type: 'node', properties: {providerID: 'i-0abc', name: 'n'}}), false)
    assert.equal(index.add('k4', {properties: {providerID: 'i-0abc', name: 'n'}}), false)
    assert.equal(index.add('k5', null), false)
    assert.equal(index.add('k6', {}), false)
    assert.equal(index.add('k7', [{type: 'Node'}]), false)
    assert.equal(index.add('k8', 'Node'), false)
    assert.equal(index.size, 0)
    assert.equal(index.lookup('i-0abc', 'n', 'prod'), undefined)
    assert.equal(index.lookup('vol-1', 'vol-1', 'prod'), undefined)
  })

  it('indexes a node by its properties.providerID and name', () => {
    const index = new NodeIndex()
    assert.equal(index.add('ignored', nodeAsset()), true)
    assert.equal(index.size, 2)
    const info = index.lookup('i-0abc', '', 'prod')
    assert.deepEqual(info, {
      name: 'ip-10-0-1-23.ec2.internal',
      providerID: 'i-0abc',
      provider: 'AWS',
      instanceType: 'm5.large',
      labels: {
        node_kubernetes_io_instance_type: 'm5.large',
        topology_kubernetes_io_zone: 'us-east-1a',
        eks_amazonaws_com_capacityType: 'ON_DEMAND',
      },
    })
    assert.equal(index.lookup('', 'ip-10-0-1-23.ec2.internal', 'prod'), info)
  })

  it('takes providerID and name from the key when properties lack them, even with slashes in the providerID', () => {
    const index = new NodeIndex()
    index.add(
      assetKey('aws:///us-east-1a/i-0abc', 'ip-10-0-1-23.ec2.internal'),
      nodeAsset({properties: {provider: 'AWS'}}),
    )
    const info = index.lookup('i-0abc', '', 'prod')
    assert.ok(info)
    assert.equal(info.providerID, 'aws:///us-east-1a/i-0abc')
    assert.equal(info.name, 'ip-10-0-1-23.ec2.internal')
    assert.equal(index.lookup('', 'ip-10-0-1-23.ec2.internal', 'prod'), info)
  })

  it('takes a bare providerID from the key', () => {
    const index = new NodeIndex()
    index.add(assetKey('i-0def', 'node-b'), nodeAsset({properties: {}}))
    const info = index.lookup('aws:///us-west-2b/i-0def', '', 'prod')
    assert.equal(info?.providerID, 'i-0def')
    assert.equal(info.name, 'node-b')
  })

  it('prefers properties over the key', () => {
    const index = new NodeIndex()
    index.add(
      assetKey('aws:///us-east-1a/i-0aaa', 'key-name'),
      nodeAsset({properties: {providerID: 'i-0bbb', name: 'prop-name'}}),
    )
    assert.equal(index.lookup('i-0aaa', '', 'prod'), undefined)
    assert.equal(index.lookup('i-0bbb', '', 'prod')?.name, 'prop-name')
    assert.equal(index.lookup('', 'key-name', 'prod'), undefined)
  })

  it('does not guess from a short (aggregated) key', () => {
    const index = new NodeIndex()
    assert.equal(index.add('prod/ip-10-0-1-23', nodeAsset({properties: {}})), true)
    assert.equal(index.size, 0)
    assert.equal(index.lookup('', 'ip-10-0-1-23', 'prod'), undefined)
  })

  it('joins an allocation aws:///<az>/i-… to an asset i-…', () => {
    const index = new NodeIndex()
    index.add('k', nodeAsset({properties: {providerID: 'i-0abc', name: 'n1'}}))
    assert.equal(index.lookup('aws:///us-east-1a/i-0abc', '', 'prod')?.name, 'n1')
  })

  it('joins an allocation i-… to an asset aws:///<az>/i-…', () => {
    const index = new NodeIndex()
    index.add('k', nodeAsset({properties: {providerID: 'aws:///us-east-1a/i-0abc', name: 'n1'}}))
    assert.equal(index.lookup('i-0abc', '', 'prod')?.name, 'n1')
    assert.equal(index.lookup('aws:///us-east-1a/i-0abc', '', 'prod')?.name, 'n1')
  })

  it('joins non-AWS providerIDs exactly', () => {
    const index = new NodeIndex()
    index.add('k', nodeAsset({properties: {providerID: 'gce://project/zone/node-1', name: 'n1'}}))
    assert.equal(index.lookup('gce://project/zone/node-1', '', 'prod')?.name, 'n1')
    assert.equal(index.lookup('node-1', '', 'prod'), undefined)
  })

  it('falls back to the node name when the providerID is missing or unknown', () => {
    const index = new NodeIndex()
    index.add('k', nodeAsset({properties: {cluster: 'prod', providerID: 'i-0abc', name: 'n1'}}))
    assert.equal(index.lookup('', 'n1', 'prod')?.providerID, 'i-0abc')
    assert.equal(index.lookup('i-0fff', 'n1', 'prod')?.providerID, 'i-0abc')
    assert.equal(index.lookup('i-0fff', 'n2', 'prod'), undefined)
    assert.equal(index.lookup('', '', 'prod'), undefined)
  })

  it('prefers the providerID match over the name match', () => {
    const index = new NodeIndex()
    index.add('a', nodeAsset({properties: {providerID: 'i-0aaa', name: 'node-a'}}))
    index.add('b', nodeAsset({properties: {providerID: 'i-0bbb', name: 'node-b'}}))
    assert.equal(index.lookup('i-0bbb', 'node-a', 'prod')?.name, 'node-b')
  })

  it('strips the label_ prefix and keeps only string labels', () => {
    const index = new NodeIndex()
    index.add(
      'k',
      nodeAsset({
        labels: {
          label_kubernetes_io_arch: 'arm64',
          label_karpenter_sh_nodepool: 'default',
          kubernetes_io_os: 'linux',
          label_count: 3,
          label_none: null,
          label_label_x: 'y',
        },
      }),
    )
    assert.deepEqual(index.lookup('i-0abc', '', 'prod')?.labels, {
      kubernetes_io_arch: 'arm64',
      karpenter_sh_nodepool: 'default',
      kubernetes_io_os: 'linux',
      label_x: 'y',
    })
  })

  it('copes with missing properties, labels and nodeType', () => {
    const index = new NodeIndex()
    index.add(assetKey('i-0abc', 'n1'), {type: 'Node'})
    assert.deepEqual(index.lookup('i-0abc', '', 'prod'), {
      name: 'n1',
      providerID: 'i-0abc',
      provider: '',
      instanceType: '',
      labels: {},
    })
    index.add('k', {type: 'Node', properties: {providerID: 7, name: ['x']}, labels: 'nope', nodeType: 5})
    assert.equal(index.size, 2)
  })

  it('clear() empties the index', () => {
    const index = new NodeIndex()
    index.add('k', nodeAsset())
    index.clear()
    assert.equal(index.size, 0)
    assert.equal(index.lookup('i-0abc', 'ip-10-0-1-23.ec2.internal', 'prod'), undefined)
  })

  it('joins by name only within the same cluster: node names repeat across clusters', () => {
    const index = new NodeIndex()
    const name = 'ip-10-0-2-1.ec2.internal'
    index.add('a', nodeAsset({properties: {cluster: 'prod', name, providerID: 'i-0aaa'}, nodeType: 'm5.large'}))
    index.add('b', nodeAsset({properties: {cluster: 'staging', name, providerID: 'i-0bbb'}, nodeType: 't3.small'}))
    assert.equal(index.lookup('', name, 'prod')?.instanceType, 'm5.large')
    assert.equal(index.lookup('', name, 'staging')?.instanceType, 't3.small')
    assert.equal(index.lookup('', name, 'dev'), undefined)
    // An allocation without a cluster name joins only a node without one, never a guess.
    assert.equal(index.lookup('', name, ''), undefined)
  })

  it('keeps only the labels it is told the rows read', () => {
    const index = new NodeIndex({labelKeys: ['kubernetes_io_arch']})
    index.add(
      'k',
      nodeAsset({labels: {label_kubernetes_io_arch: 'arm64', label_team: 'x', label_kubernetes_io_os: 'linux'}}),
    )
    assert.deepEqual(index.lookup('i-0abc', '', 'prod')?.labels, {kubernetes_io_arch: 'arm64'})
  })
})

describe('NodeIndex per cluster (split mode)', () => {
  const asset = (cluster: string, type: string) =>
    nodeAsset({
      properties: {cluster, provider: 'AWS', name: 'ip-10-0-1-23.ec2.internal', providerID: 'node-1'},
      nodeType: type,
    })

  it("joins a providerID only within the allocation's cluster", () => {
    const index = new NodeIndex({perCluster: true})
    index.add('one', asset('one', 'm5.large'))
    index.add('two', asset('two', 'c6g.xlarge'))
    assert.equal(index.lookup('node-1', '', 'one')?.instanceType, 'm5.large')
    assert.equal(index.lookup('node-1', '', 'two')?.instanceType, 'c6g.xlarge')
    assert.equal(index.lookup('node-1', '', 'three'), undefined)
    // By node name, the same way: cluster and name together.
    assert.equal(index.lookup('', 'ip-10-0-1-23.ec2.internal', 'two')?.instanceType, 'c6g.xlarge')
  })

  it('without perCluster, a providerID joins whatever the cluster (one cluster per Kubecost)', () => {
    const index = new NodeIndex()
    index.add('one', asset('one', 'm5.large'))
    assert.equal(index.lookup('node-1', '', 'other-name')?.instanceType, 'm5.large')
  })
})
