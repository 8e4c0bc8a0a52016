import type {ClusterIdentity} from './cluster.js'
import {KubecostResponseError} from './errors.js'
import {type NodeIndex, type NodeInfo, isEc2ProviderId} from './nodes.js'
import {type Column, type PropertyField, type RowSource, contractColumns, sanitizeKey, str} from './schema.js'

export {sanitizeKey} from './schema.js'

/** One contract row: name, window.start/end (epoch ms), 36 numbers, 19 strings, labels, annotations. */
export type Row = Array<string | number>

type Json = Record<string, unknown>

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
  ([field, keys]) => [field, keys.map(k => sanitizeKey(k))] as const,
)

/** The node labels the rows read (sanitised, as the Assets API reports them): all a NodeIndex needs to keep. */
export const NODE_LABEL_KEYS: readonly string[] = SANITIZED_NODE_SOURCES.flatMap(([, keys]) => keys)

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
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
  /** The file's columns; by default the contract's, with the label and annotation columns. */
  columns?: readonly Column[]
}

const EMPTY: Json = Object.freeze({})

/** Column sources as small integers: the builder's loop switches on these (string cases cost it ~30 %). */
const enum Op {
  Name,
  WindowStart,
  WindowEnd,
  Number,
  Property,
  Node,
  Provider,
  ProviderId,
  ClusterArn,
  ClusterName,
  Label,
  Annotation,
  Computed,
}

interface Compiled {
  ops: Uint8Array
  /** Per column: the field or (sanitised) key it reads. */
  keys: string[]
  /** Per label/annotation column: the key as written, the fallback. */
  written: string[]
  computed: Array<((row: RowSource) => string | number) | undefined>
}

function compile(columns: readonly Column[]): Compiled {
  const compiled: Compiled = {ops: new Uint8Array(columns.length), keys: [], written: [], computed: []}
  for (const [i, {source}] of columns.entries()) {
    let op: Op
    let key = ''
    switch (source.from) {
      case 'name': {
        op = Op.Name
        break
      }

      case 'window': {
        op = source.edge === 'start' ? Op.WindowStart : Op.WindowEnd
        break
      }

      case 'number': {
        op = Op.Number
        key = source.field
        break
      }

      case 'property': {
        op = Op.Property
        key = source.field
        break
      }

      case 'node': {
        op = Op.Node
        key = source.field
        break
      }

      case 'provider': {
        op = Op.Provider
        break
      }

      case 'providerID': {
        op = Op.ProviderId
        break
      }

      case 'cluster-arn': {
        op = Op.ClusterArn
        break
      }

      case 'cluster-name': {
        op = Op.ClusterName
        break
      }

      case 'labels':
      case 'annotations': {
        op = source.from === 'labels' ? Op.Label : Op.Annotation
        key = source.sanitized
        compiled.written[i] = source.key
        break
      }

      case 'computed': {
        op = Op.Computed
        compiled.computed[i] = source.value
        break
      }
    }

    compiled.ops[i] = op
    compiled.keys[i] = key
  }

  return compiled
}

/** Turns allocations into rows, one at a time, in the column list's order. */
export class RowBuilder {
  readonly columns: readonly Column[]
  private readonly compiled: Compiled
  private readonly hasComputed: boolean

  constructor(private readonly ctx: RowContext) {
    this.columns = ctx.columns ?? contractColumns({labels: ctx.labelKeys, annotations: ctx.annotationKeys})
    this.compiled = compile(this.columns)
    this.hasComputed = this.compiled.ops.includes(Op.Computed)
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

    const properties = isObject(allocation.properties) ? allocation.properties : EMPTY
    const labels = isObject(properties.labels) ? properties.labels : EMPTY
    const annotations = isObject(properties.annotations) ? properties.annotations : EMPTY
    const window = isObject(allocation.window) ? allocation.window : EMPTY
    const providerID = str(properties.providerID)
    const node = this.ctx.nodes.lookup(providerID, str(properties.node), str(properties.cluster))
    const nodeFields: Readonly<Record<string, string>> = resolveNodeFields(labels, node)
    const {cluster} = this.ctx
    const {ops, keys, written, computed} = this.compiled
    const row: RowSource | undefined = this.hasComputed
      ? {name, allocation, properties, labels, annotations, providerID, node, nodeFields, cluster}
      : undefined
    for (let i = 0; i < ops.length; i++) {
      switch (ops[i]) {
        case Op.Name: {
          sink.string(name)
          break
        }

        case Op.WindowStart: {
          sink.number(timestamp(window.start, this.ctx.windowStartMs))
          break
        }

        case Op.WindowEnd: {
          sink.number(timestamp(window.end, this.ctx.windowEndMs))
          break
        }

        case Op.Number: {
          const value = allocation[keys[i] as string]
          if (typeof value !== 'number') sink.number(0)
          else if (Number.isFinite(value)) sink.number(value)
          else throw nonFinite(name, keys[i] as string, value)
          break
        }

        case Op.Property: {
          sink.string(str(properties[keys[i] as string]))
          break
        }

        case Op.Node: {
          sink.string(nodeFields[keys[i] as string] ?? '')
          break
        }

        case Op.Provider: {
          sink.string(isEc2ProviderId(providerID) ? 'AWS' : (node?.provider ?? ''))
          break
        }

        case Op.ProviderId: {
          sink.string(providerID)
          break
        }

        case Op.ClusterArn: {
          sink.string(cluster.arn)
          break
        }

        case Op.ClusterName: {
          sink.string(cluster.name)
          break
        }

        case Op.Label: {
          sink.string(str(labels[keys[i] as string] ?? labels[written[i] as string]))
          break
        }

        case Op.Annotation: {
          sink.string(str(annotations[keys[i] as string] ?? annotations[written[i] as string]))
          break
        }

        default: {
          const value = (computed[i] as (row: RowSource) => string | number)(row as RowSource)
          if (typeof value === 'string') sink.string(value)
          else sink.number(value)
        }
      }
    }

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
    {
      suggestions: [
        "Kubecost's data for this day is corrupt (a value beyond the range of a double); check the cost-analyzer's logs and its pricing configuration. The next run tries the day again.",
      ],
    },
  )
}

function timestamp(value: unknown, fallback: number): number {
  if (typeof value !== 'string') return fallback
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? fallback : ms
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

type NodeField = (typeof NODE_LABEL_SOURCES)[number][0]
type NodeFields = Record<NodeField, string>

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
