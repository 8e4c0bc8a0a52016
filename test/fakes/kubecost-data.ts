/**
 * Deterministic, realistic Kubecost data for the fake server, in the shapes of real Allocation and
 * Assets API responses: an EKS managed node group node, Karpenter nodes (nodepool and the older
 * provisioner-name), a node whose labels carry both EKS and Karpenter capacity types, allocations
 * with and without node labels, idle-by-node and unmounted rows, null and missing numbers,
 * negative adjustments and efficiencies above 1, label keys sanitised the way Kubecost does.
 */

export const FAKE_ACCOUNT = '111122223333'
export const FAKE_REGION = 'us-east-1'

export interface FakeNode {
  name: string
  /** As allocations report it. */
  providerID: string
  /** Kubernetes node labels, unsanitised. */
  labels: Record<string, string>
  /** Whether the node's labels are also copied into allocation labels (as Kubecost does for some setups). */
  labelsInAllocations: boolean
  nodeType: string
}

export type Allocation = Record<string, unknown> & {name: string; properties: Record<string, unknown>}

export function sanitize(key: string): string {
  return key.replaceAll(/[^A-Za-z0-9_]/g, '_')
}

export const FAKE_NODES: readonly FakeNode[] = [
  {
    name: 'ip-10-0-1-11.ec2.internal',
    providerID: 'aws:///us-east-1a/i-0a1b2c3d4e5f60001',
    labelsInAllocations: true,
    nodeType: 'm5.large',
    labels: {
      'node.kubernetes.io/instance-type': 'm5.large',
      'topology.kubernetes.io/region': 'us-east-1',
      'topology.kubernetes.io/zone': 'us-east-1a',
      'kubernetes.io/arch': 'amd64',
      'kubernetes.io/os': 'linux',
      'eks.amazonaws.com/capacityType': 'ON_DEMAND',
      'eks.amazonaws.com/nodegroup': 'ng-general',
      'eks.amazonaws.com/nodegroup-image': 'ami-0abc1230000000001',
    },
  },
  {
    name: 'ip-10-0-2-22.ec2.internal',
    providerID: 'i-0a1b2c3d4e5f60002',
    labelsInAllocations: false,
    nodeType: 'c6g.xlarge',
    labels: {
      'node.kubernetes.io/instance-type': 'c6g.xlarge',
      'topology.kubernetes.io/region': 'us-east-1',
      'topology.kubernetes.io/zone': 'us-east-1b',
      'kubernetes.io/arch': 'arm64',
      'kubernetes.io/os': 'linux',
      'karpenter.sh/capacity-type': 'spot',
      'karpenter.sh/nodepool': 'default',
      'karpenter.k8s.aws/instance-ami-id': 'ami-0def4560000000002',
    },
  },
  {
    // An older Karpenter node: provisioner-name, and no instance-type label (only the asset's nodeType).
    name: 'ip-10-0-3-33.ec2.internal',
    providerID: 'aws:///us-east-1c/i-0a1b2c3d4e5f60003',
    labelsInAllocations: false,
    nodeType: 'r5.2xlarge',
    labels: {
      'topology.kubernetes.io/region': 'us-east-1',
      'topology.kubernetes.io/zone': 'us-east-1c',
      'kubernetes.io/arch': 'amd64',
      'kubernetes.io/os': 'linux',
      'karpenter.sh/capacity-type': 'on-demand',
      'karpenter.sh/provisioner-name': 'legacy',
    },
  },
  {
    // Both EKS and Karpenter capacity labels: the EKS one wins, never "SPOTspot".
    name: 'ip-10-0-4-44.ec2.internal',
    providerID: 'i-0a1b2c3d4e5f60004',
    labelsInAllocations: true,
    nodeType: 't3.medium',
    labels: {
      'node.kubernetes.io/instance-type': 't3.medium',
      'topology.kubernetes.io/region': 'us-east-1',
      'topology.kubernetes.io/zone': 'us-east-1a',
      'kubernetes.io/arch': 'amd64',
      'kubernetes.io/os': 'linux',
      'eks.amazonaws.com/capacityType': 'SPOT',
      'karpenter.sh/capacity-type': 'spot',
      'eks.amazonaws.com/nodegroup': 'ng-spot',
      'karpenter.sh/nodepool': 'spot-pool',
    },
  },
]

const NAMESPACES = ['checkout', 'payments', 'kubecost', 'kube-system', 'data-pipeline']
const APPS = ['api', 'worker', 'frontend', 'cost-model', 'coredns', 'etl']

/** A small deterministic PRNG (mulberry32), seeded per day, so every request for a day sees the same data. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

function hash(text: string): number {
  let h = 2_166_136_261
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16_777_619)
  return h >>> 0
}

const round = (n: number) => Math.round(n * 1e6) / 1e6

function window(day: string): {start: string; end: string} {
  const end = new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().replace('.000Z', 'Z')
  return {start: `${day}T00:00:00Z`, end}
}

function costFields(rand: () => number, scale: number): Record<string, number> {
  const cpuCost = round(rand() * scale)
  const ramCost = round(rand() * scale * 0.6)
  const pvCost = round(rand() * scale * 0.1)
  const networkCost = round(rand() * scale * 0.05)
  const loadBalancerCost = round(rand() * scale * 0.02)
  const gpuCost = 0
  const cpuCostAdjustment = round(-rand() * scale * 0.01)
  const ramCostAdjustment = round(-rand() * scale * 0.01)
  const sharedCost = round(rand() * scale * 0.03)
  return {
    minutes: 1440,
    cpuCores: round(rand() * 2),
    cpuCoreRequestAverage: round(rand()),
    cpuCoreUsageAverage: round(rand()),
    cpuCoreHours: round(rand() * 48),
    cpuCost,
    cpuCostAdjustment,
    cpuEfficiency: round(rand() * 1.4),
    gpuCount: 0,
    gpuHours: 0,
    gpuCost,
    gpuCostAdjustment: 0,
    networkTransferBytes: round(rand() * 1e9),
    networkReceiveBytes: round(rand() * 1e9),
    networkCost,
    networkCrossZoneCost: round(networkCost * 0.5),
    networkCrossRegionCost: round(networkCost * 0.2),
    networkInternetCost: round(networkCost * 0.3),
    networkCostAdjustment: 0,
    loadBalancerCost,
    loadBalancerCostAdjustment: 0,
    pvBytes: round(rand() * 1e10),
    pvByteHours: round(rand() * 2.4e11),
    pvCost,
    pvCostAdjustment: 0,
    ramBytes: round(rand() * 4e9),
    ramByteRequestAverage: round(rand() * 2e9),
    ramByteUsageAverage: round(rand() * 2e9),
    ramByteHours: round(rand() * 9.6e10),
    ramCost,
    ramCostAdjustment,
    ramEfficiency: round(rand() * 3),
    sharedCost,
    externalCost: 0,
    totalCost: round(
      cpuCost +
        ramCost +
        pvCost +
        networkCost +
        loadBalancerCost +
        gpuCost +
        cpuCostAdjustment +
        ramCostAdjustment +
        sharedCost,
    ),
    totalEfficiency: round(rand() * 1.2),
  }
}

export interface DayDataOptions {
  cluster: string
  /** Number of container allocations (idle and unmounted rows come on top). */
  containers: number
  /** The cluster's nodes (default FAKE_NODES). */
  nodes?: readonly FakeNode[]
  /** Allocations without properties.providerID, so the assets join falls back to cluster and node name. */
  withoutProviderId?: boolean
}

const INSTANCE_TYPES = ['m5.large', 'c6g.xlarge', 'r5.2xlarge', 't3.medium', 'm6i.4xlarge', 'c7g.2xlarge', 'r6a.large']

/**
 * The nodes of the `index`-th cluster of a federated primary: the same node names as FAKE_NODES
 * (ip-10-0-1-11.ec2.internal repeats across VPCs), but each cluster's own instance ids and
 * instance types, so a join that mixes two clusters' nodes shows in the rows. Index 0 is FAKE_NODES.
 */
export function clusterNodes(index: number): FakeNode[] {
  if (index === 0) return [...FAKE_NODES]
  return FAKE_NODES.map((node, n) => {
    const type = INSTANCE_TYPES[(n + index * 2) % INSTANCE_TYPES.length] as string
    const labels = {...node.labels}
    if (labels['node.kubernetes.io/instance-type'] !== undefined) labels['node.kubernetes.io/instance-type'] = type
    return {
      ...node,
      providerID: node.providerID.replace(/6000(\d)$/, `${index.toString(16).padStart(3, '0')}$1`),
      nodeType: type,
      labels,
    }
  })
}

/**
 * The container-level allocations of one day, generated lazily so a 100k-allocation day is never
 * held whole. Includes one idle row per node and one unmounted-volume row.
 */
export function* dayAllocations(day: string, options: DayDataOptions): Generator<Allocation> {
  const rand = prng(hash(`${options.cluster}/${day}`))
  const win = window(day)
  const nodes = options.nodes ?? FAKE_NODES
  for (let i = 0; i < options.containers; i++) {
    const node = nodes[i % nodes.length] as FakeNode
    const namespace = NAMESPACES[i % NAMESPACES.length] as string
    const app = APPS[(i >> 2) % APPS.length] as string
    const pod = `${app}-${(i >> 1).toString(36).padStart(5, '0')}-x${i % 7}`
    const container = i % 2 === 0 ? app : 'istio-proxy'
    const labels: Record<string, string> = {
      app,
      [sanitize('app.kubernetes.io/name')]: app,
      [sanitize('app.kubernetes.io/part-of')]: namespace,
      pod_template_hash: '5b84f94b7f',
    }
    if (i % 3 !== 0) labels.team = `team-${i % 4}`
    if (node.labelsInAllocations) for (const [k, v] of Object.entries(node.labels)) labels[sanitize(k)] = v
    const costs = costFields(rand, 0.5)
    // Real responses omit or null some numbers; the exporter must write 0 for them.
    if (i % 11 === 3) costs.ramEfficiency = null as unknown as number
    if (i % 13 === 5) delete costs.gpuCost
    if (i % 17 === 7) costs.networkCost = null as unknown as number
    const name = `${options.cluster}/${node.name}/${namespace}/${pod}/${container}`
    yield {
      name,
      properties: {
        cluster: options.cluster,
        node: node.name,
        container,
        controller: app,
        controllerKind: 'deployment',
        namespace,
        pod,
        services: [`${app}-svc`],
        ...(options.withoutProviderId ? {} : {providerID: node.providerID}),
        labels,
        annotations: {
          [sanitize('prometheus.io/scrape')]: 'true',
          ...(i % 5 === 0 ? {owner: `owner-${i % 3}@example.com`} : {}),
        },
      },
      window: win,
      start: win.start,
      end: win.end,
      ...costs,
      pvs: null,
      rawAllocationOnly: null,
    }
  }

  for (const node of nodes) {
    const costs = costFields(rand, 2)
    yield {
      name: `${options.cluster}/${node.name}/__idle__`,
      properties: {
        cluster: options.cluster,
        node: node.name,
        ...(options.withoutProviderId ? {} : {providerID: node.providerID}),
      },
      window: win,
      start: win.start,
      end: win.end,
      ...costs,
    }
  }

  yield {
    name: `${options.cluster}/__unmounted__/__unmounted__/__unmounted__`,
    properties: {
      cluster: options.cluster,
      node: '',
      namespace: '__unmounted__',
      container: '__unmounted__',
      pod: '__unmounted__',
    },
    window: win,
    start: win.start,
    end: win.end,
    pvCost: 0.42,
    pvBytes: 1.5e10,
    pvByteHours: 3.6e11,
    totalCost: 0.42,
    minutes: 1440,
  }
}

/** The day's cluster-level aggregate, as `aggregate=cluster` returns it. */
export function clusterAggregate(day: string, options: DayDataOptions): Allocation {
  let totalCost = 0
  for (const a of dayAllocations(day, options)) totalCost += typeof a.totalCost === 'number' ? a.totalCost : 0
  const win = window(day)
  return {
    name: options.cluster,
    properties: {cluster: options.cluster},
    window: win,
    start: win.start,
    end: win.end,
    minutes: 1440,
    totalCost,
  }
}

/** Assets API entries for the day: every node, plus a Disk that a correct client must drop. */
export function dayAssets(
  day: string,
  options: {cluster: string; includeNonNodes: boolean; nodes?: readonly FakeNode[]},
): Record<string, unknown> {
  const win = window(day)
  const assets: Record<string, unknown> = {}
  for (const node of options.nodes ?? FAKE_NODES) {
    const key = `AWS/${FAKE_ACCOUNT}/${FAKE_ACCOUNT}/Compute/${options.cluster}/Node/Kubernetes/${node.providerID}/${node.name}`
    const labels: Record<string, string> = {}
    for (const [k, v] of Object.entries(node.labels)) labels[`label_${sanitize(k)}`] = v
    assets[key] = {
      type: 'Node',
      properties: {
        category: 'Compute',
        provider: 'AWS',
        project: FAKE_ACCOUNT,
        service: 'Kubernetes',
        cluster: options.cluster,
        name: node.name,
        providerID: node.providerID,
      },
      labels,
      window: win,
      start: win.start,
      end: win.end,
      minutes: 1440,
      nodeType: node.nodeType,
      cpuCores: 2,
      ramBytes: 8_589_934_592,
      preemptible: node.labels['karpenter.sh/capacity-type'] === 'spot' ? 1 : 0,
      totalCost: 2.3,
    }
  }

  if (options.includeNonNodes) {
    assets[`AWS/${FAKE_ACCOUNT}/${FAKE_ACCOUNT}/Storage/${options.cluster}/Disk/Kubernetes/vol-0123/pvc-1`] = {
      type: 'Disk',
      properties: {
        category: 'Storage',
        provider: 'AWS',
        cluster: options.cluster,
        name: 'pvc-1',
        providerID: FAKE_NODES[1]?.providerID,
      },
      labels: {label_node_kubernetes_io_instance_type: 'WRONG-disk-label'},
      nodeType: 'WRONG',
      window: win,
      totalCost: 0.1,
    }
  }

  return assets
}
