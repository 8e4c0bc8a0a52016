import type {ClusterIdentity} from './cluster.js'
import {KubecostResponseError} from './errors.js'
import {type NodeIndex, type NodeInfo, isEc2ProviderId} from './nodes.js'
import {NUMERIC_FIELDS, type PropertyField} from './schema.js'

/** One contract row: name, window.start/end (epoch ms), 36 numbers, 19 strings, labels, annotations. */
export type Row = Array<string | number>

type Json = Record<string, unknown>

/** Kubecost reports label and annotation keys sanitised the Prometheus way. */
export function sanitizeKey(key: string): string {
  return key.replaceAll(/[^A-Za-z0-9_]/g, '_')
}

/**
 * Node fields and the node labels they come from, most specific first. The first label present wins;
 * two are never concatenated (the old exporter did, producing values like "ON_DEMANDspot").
 */
export const NODE_LABEL_SOURCES: ReadonlyArray<readonly [PropertyField, readonly string[]]> = [
  ['region', ['topology.kubernetes.io/region', 'failure-domain.beta.kubernetes.io/region']],
  ['node_instance_type', ['node.kubernetes.io/instance-type', 'beta.kubernetes.io/instance-type']],
  ['node_availability_zone', ['topology.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/zone']],
  ['node_capacity_type', ['eks.amazonaws.com/capacityType', 'karpenter.sh/capacity-type']],
  ['node_architecture', ['kubernetes.io/arch', 'beta.kubernetes.io/arch']],
  ['node_os', ['kubernetes.io/os', 'beta.kubernetes.io/os']],
  ['node_nodegroup', ['eks.amazonaws.com/nodegroup', 'karpenter.sh/nodepool', 'karpenter.sh/provisioner-name']],
  ['node_nodegroup_image', ['eks.amazonaws.com/nodegroup-image', 'karpenter.k8s.aws/instance-ami-id']],
]

const SANITIZED_NODE_SOURCES = NODE_LABEL_SOURCES.map(
  ([field, keys]) => [field, keys.map((k) => sanitizeKey(k))] as const,
)

/** The node labels the rows read (sanitised, as the Assets API reports them): all a NodeIndex needs to keep. */
export const NODE_LABEL_KEYS: readonly string[] = SANITIZED_NODE_SOURCES.flatMap(([, keys]) => keys)

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function str(value: unknown): string {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return ''
}

function firstLabel(labels: Record<string, unknown>, sanitizedKeys: readonly string[]): string {
  for (const key of sanitizedKeys) {
    const value = labels[key]
    if (typeof value === 'string' && value !== '') return value
  }

  return ''
}

export interface RowContext {
  cluster: ClusterIdentity
  labelKeys: readonly string[]
  annotationKeys: readonly string[]
  nodes: NodeIndex
  /** The collected day's window, used when an allocation carries none. */
  windowStartMs: number
  windowEndMs: number
}

/** Turns rows out of allocations, one at a time; label keys are sanitised once, not per row. */
export class RowBuilder {
  private readonly labelLookups: Array<readonly [string, string]>
  private readonly annotationLookups: Array<readonly [string, string]>

  constructor(private readonly ctx: RowContext) {
    this.labelLookups = ctx.labelKeys.map((k) => [k, sanitizeKey(k)] as const)
    this.annotationLookups = ctx.annotationKeys.map((k) => [k, sanitizeKey(k)] as const)
  }

  /** The row for one allocation, or undefined for entries that are not allocations (e.g. placeholder `{}`). */
  build(key: string, allocation: unknown): Row | undefined {
    const collector = new RowCollector()
    return this.write(key, allocation, collector) ? collector.rows[0] : undefined
  }

  /**
   * Writes the row for one allocation into `sink`, value by value in column order; false (and
   * nothing written) for entries that are not allocations. No row object is built on the way.
   */
  write(key: string, allocation: unknown, sink: RowSink): boolean {
    if (!isObject(allocation)) return false
    const name = str(allocation.name) || key
    if (!name || Object.keys(allocation).length === 0) return false

    const properties = isObject(allocation.properties) ? allocation.properties : {}
    const labels = isObject(properties.labels) ? properties.labels : {}
    const annotations = isObject(properties.annotations) ? properties.annotations : {}
    const window = isObject(allocation.window) ? allocation.window : {}
    const providerID = str(properties.providerID)
    const nodeName = str(properties.node)
    const node = this.ctx.nodes.lookup(providerID, nodeName, str(properties.cluster))

    sink.string(name)
    sink.number(timestamp(window.start, this.ctx.windowStartMs))
    sink.number(timestamp(window.end, this.ctx.windowEndMs))
    for (const field of NUMERIC_FIELDS) {
      const value = allocation[field]
      if (typeof value !== 'number') sink.number(0)
      else if (Number.isFinite(value)) sink.number(value)
      else throw nonFinite(name, field, value)
    }

    const nodeFields = resolveNodeFields(labels, node)
    const {cluster} = this.ctx
    sink.string(isEc2ProviderId(providerID) ? 'AWS' : (node?.provider ?? ''))
    sink.string(nodeFields.region)
    sink.string(str(properties.cluster))
    sink.string(cluster.arn)
    sink.string(cluster.name)
    sink.string(str(properties.container))
    sink.string(str(properties.namespace))
    sink.string(str(properties.pod))
    sink.string(nodeName)
    sink.string(nodeFields.node_instance_type)
    sink.string(nodeFields.node_availability_zone)
    sink.string(nodeFields.node_capacity_type)
    sink.string(nodeFields.node_architecture)
    sink.string(nodeFields.node_os)
    sink.string(nodeFields.node_nodegroup)
    sink.string(nodeFields.node_nodegroup_image)
    sink.string(str(properties.controller))
    sink.string(str(properties.controllerKind))
    sink.string(providerID)
    for (const [original, sanitized] of this.labelLookups) sink.string(str(labels[sanitized] ?? labels[original]))
    for (const [original, sanitized] of this.annotationLookups) sink.string(str(annotations[sanitized] ?? annotations[original]))
    sink.endRow()
    return true
  }
}

/**
 * JSON has no infinities, but a number beyond a double's range (`1e309`) parses as one. Written, it
 * would make every sum over the day infinite in Athena; written as 0, it would silently change the
 * day's total. The day fails instead, naming the value, and is tried again by the next run.
 */
function nonFinite(name: string, field: string, value: number): KubecostResponseError {
  return new KubecostResponseError(
    `Kubecost reported ${field} = ${value} for allocation ${JSON.stringify(name)}, a number out of range; the day is not written`,
    {suggestions: ['Kubecost\'s data for this day is corrupt (a value beyond the range of a double); check the cost-analyzer\'s logs and its pricing configuration. The next run tries the day again.']},
  )
}

/** Receives a row's values in column order (timestamps as epoch milliseconds), then `endRow`. */
export interface RowSink {
  string(value: string): void
  number(value: number): void
  endRow(): void
}

/** A sink that keeps whole rows, for callers that want them as arrays. */
export class RowCollector implements RowSink {
  readonly rows: Row[] = []
  private current: Row = []

  string(value: string): void {
    this.current.push(value)
  }

  number(value: number): void {
    this.current.push(value)
  }

  endRow(): void {
    this.rows.push(this.current)
    this.current = []
  }
}

type NodeFields = Record<(typeof NODE_LABEL_SOURCES)[number][0], string>

/** Node fields from the allocation's labels first, then the Assets API node's labels, then its nodeType. */
export function resolveNodeFields(allocationLabels: Record<string, unknown>, node: NodeInfo | undefined): NodeFields {
  const fields = {} as NodeFields
  for (const [field, keys] of SANITIZED_NODE_SOURCES) {
    let value = firstLabel(allocationLabels, keys)
    if (!value && node) value = firstLabel(node.labels, keys)
    if (!value && node && field === 'node_instance_type') value = node.instanceType
    fields[field] = value
  }

  return fields
}

function timestamp(value: unknown, fallback: number): number {
  if (typeof value !== 'string') return fallback
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? fallback : ms
}
