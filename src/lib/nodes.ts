/**
 * Node metadata from the Assets API, indexed for the join with allocations. Kubecost reports asset
 * labels with a `label_` prefix and keys sanitised the Prometheus way; the index strips the prefix.
 */

export interface NodeInfo {
  name: string
  providerID: string
  provider: string
  instanceType: string
  /** Sanitised label key (no `label_` prefix) → value. */
  labels: Record<string, string>
}

type Json = Record<string, unknown>

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : ''
}

/**
 * The bare EC2 instance id of a providerID (`i-0abc` or `aws:///us-east-1a/i-0abc`), or the
 * providerID itself for other providers, so both forms join.
 */
export function joinKey(providerID: string): string {
  const m = /(?:^|\/)(i-[0-9a-f]+)$/.exec(providerID)
  return m ? (m[1] as string) : providerID
}

export function isEc2ProviderId(providerID: string): boolean {
  return /^(?:aws:\/\/\/[a-z0-9-]+\/)?i-[0-9a-f]+$/.test(providerID)
}

export interface NodeIndexOptions {
  /**
   * The sanitised label keys (no `label_` prefix) the rows read; other labels are dropped as nodes
   * are added, so a cluster of many nodes with many labels costs only what the join needs. All are
   * kept when absent.
   */
  labelKeys?: Iterable<string>
  /**
   * Joins by providerID within the allocation's cluster too, not only by node name: a federated
   * primary answers for many clusters, and one cluster's node must never describe another's rows.
   */
  perCluster?: boolean
}

function nameKey(cluster: string, name: string): string {
  return `${cluster}\u0000${name}`
}

/** What a NodeIndex holds, as plain data that can cross to another thread (`NodeIndex.from`). */
export interface NodeIndexData {
  byProviderId: Map<string, NodeInfo>
  byName: Map<string, NodeInfo>
  perCluster: boolean
}

export class NodeIndex {
  private readonly byProviderId = new Map<string, NodeInfo>()
  /** Keyed by cluster and node name: node names such as ip-10-0-2-1.ec2.internal repeat across clusters. */
  private readonly byName = new Map<string, NodeInfo>()
  private readonly keep: ReadonlySet<string> | undefined
  private readonly perCluster: boolean

  constructor(options: NodeIndexOptions = {}) {
    this.keep = options.labelKeys ? new Set(options.labelKeys) : undefined
    this.perCluster = options.perCluster === true
  }

  /** An index that answers lookups as `data`'s did (nodes cannot be added to it). */
  static from(data: NodeIndexData): NodeIndex {
    const index = new NodeIndex({labelKeys: [], perCluster: data.perCluster})
    for (const [key, node] of data.byProviderId) index.byProviderId.set(key, node)
    for (const [key, node] of data.byName) index.byName.set(key, node)
    return index
  }

  /** The index as plain data (see `from`). */
  data(): NodeIndexData {
    return {byProviderId: this.byProviderId, byName: this.byName, perCluster: this.perCluster}
  }

  private providerKey(providerID: string, cluster: string): string {
    return this.perCluster ? nameKey(cluster, joinKey(providerID)) : joinKey(providerID)
  }

  get size(): number {
    return this.byName.size + this.byProviderId.size
  }

  clear(): void {
    this.byProviderId.clear()
    this.byName.clear()
  }

  /** Adds one Assets API entry; anything that is not `type: Node` is ignored, whatever the server's filter did. */
  add(key: string, asset: unknown): boolean {
    if (!isObject(asset) || asset.type !== 'Node') return false
    const properties = isObject(asset.properties) ? asset.properties : {}
    // Unaggregated asset keys are provider/account/project/category/cluster/type/service/providerID/name,
    // and an AWS providerID (aws:///az/i-...) itself contains slashes.
    const segments = key.split('/')
    const providerID = str(properties.providerID) || (segments.length >= 9 ? segments.slice(7, -1).join('/') : '')
    const name = str(properties.name) || (segments.length >= 9 ? (segments.at(-1) as string) : '')
    const cluster = str(properties.cluster) || (segments.length >= 9 ? (segments[4] as string) : '')
    const labels: Record<string, string> = {}
    if (isObject(asset.labels)) {
      for (const [k, v] of Object.entries(asset.labels)) {
        const key = k.startsWith('label_') ? k.slice('label_'.length) : k
        if (typeof v === 'string' && (this.keep === undefined || this.keep.has(key))) labels[key] = v
      }
    }

    const info: NodeInfo = {
      name,
      providerID,
      provider: str(properties.provider),
      instanceType: str(asset.nodeType),
      labels,
    }
    if (providerID) this.byProviderId.set(this.providerKey(providerID, cluster), info)
    if (name) this.byName.set(nameKey(cluster, name), info)
    return true
  }

  /**
   * Joins by providerID (bare instance id); where the allocation has none, or none that is known, by
   * cluster and node name together, so one cluster's node is never attached to another's allocation.
   */
  lookup(providerID: string, nodeName: string, cluster: string): NodeInfo | undefined {
    if (providerID) {
      const hit = this.byProviderId.get(this.providerKey(providerID, cluster))
      if (hit) return hit
    }

    return nodeName ? this.byName.get(nameKey(cluster, nodeName)) : undefined
  }
}
