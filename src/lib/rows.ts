import type {ClusterIdentity} from './cluster.js'
import {KubecostResponseError} from './errors.js'
import {abbreviate} from './sanitize.js'
import {type NodeIndex, type NodeInfo, isEc2ProviderId} from './nodes.js'
import {
  type Column,
  NUMERIC_FIELDS,
  type NumericField,
  type PropertyField,
  type RowSource,
  contractColumns,
  sanitizeKey,
  str,
} from './schema.js'

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
  /** Who answered, as messages name it (Kubecost by default, or OpenCost). */
  product?: string
}

const EMPTY: Json = Object.freeze({})

/** Column sources as small integers: the builder's loop switches on these (string cases cost it ~30 %). */
const enum Op {
  Name,
  WindowStart,
  WindowEnd,
  /** A field of NUMERIC_FIELDS, read by `readNumbers`. */
  KnownNumber,
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
  /** Per KnownNumber column: its field's index in NUMERIC_FIELDS. */
  numberIndex: Uint8Array
  /** Per label/annotation column: the key as written, the fallback. */
  written: string[]
  computed: Array<((row: RowSource) => string | number) | undefined>
}

function compile(columns: readonly Column[]): Compiled {
  const compiled: Compiled = {
    ops: new Uint8Array(columns.length),
    keys: [],
    numberIndex: new Uint8Array(columns.length),
    written: [],
    computed: [],
  }
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
        const index = (NUMERIC_FIELDS as readonly string[]).indexOf(source.field)
        op = index < 0 ? Op.Number : Op.KnownNumber
        compiled.numberIndex[i] = Math.max(index, 0)
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
  private readonly readsNumbers: boolean
  /** The current allocation's NUMERIC_FIELDS values, as found (validated as they are written). */
  private readonly numbers: unknown[] = NUMERIC_FIELDS.map(() => undefined)
  // Every allocation of a day usually has the same window: its text is parsed once.
  private readonly start = new TimestampCache()
  private readonly end = new TimestampCache()

  constructor(private readonly ctx: RowContext) {
    this.columns = ctx.columns ?? contractColumns({labels: ctx.labelKeys, annotations: ctx.annotationKeys})
    this.compiled = compile(this.columns)
    this.hasComputed = this.compiled.ops.includes(Op.Computed)
    this.readsNumbers = this.compiled.ops.includes(Op.KnownNumber)
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
    if (!name || isEmpty(allocation)) return false

    const properties = isObject(allocation.properties) ? allocation.properties : EMPTY
    const labels = isObject(properties.labels) ? properties.labels : EMPTY
    const annotations = isObject(properties.annotations) ? properties.annotations : EMPTY
    const window = isObject(allocation.window) ? allocation.window : EMPTY
    const {windowStartMs: dayStartMs, windowEndMs: dayEndMs} = this.ctx
    const startMs = this.start.ms(window.start, dayStartMs)
    const endMs = this.end.ms(window.end, dayEndMs)
    // `window` is the set's window (the step asked for), not the pod's run (`start`/`end`): one
    // outside the day is another day's data, which Athena would count twice.
    if (startMs < dayStartMs || endMs > dayEndMs || startMs >= dayEndMs || endMs < startMs)
      throw outsideDay(
        this.ctx.product ?? 'Kubecost',
        name,
        {start: startMs, end: endMs},
        {start: dayStartMs, end: dayEndMs},
      )
    const providerID = str(properties.providerID)
    const node = this.ctx.nodes.lookup(providerID, str(properties.node), str(properties.cluster))
    const nodeFields: Readonly<Record<string, string>> = resolveNodeFields(labels, node)
    const {cluster} = this.ctx
    const {ops, keys, numberIndex, written, computed} = this.compiled
    const {numbers} = this
    if (this.readsNumbers) readNumbers(allocation, numbers)
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
          sink.number(startMs)
          break
        }

        case Op.WindowEnd: {
          sink.number(endMs)
          break
        }

        case Op.KnownNumber: {
          const value = numbers[numberIndex[i] as number]
          if (typeof value !== 'number') sink.number(0)
          else if (Number.isFinite(value)) sink.number(value)
          else throw nonFinite(name, keys[i] as string, value)
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

/**
 * An allocation whose window is not within the day collected. Kubecost gives every allocation of a
 * set the set's window, and asked for one UTC day with step=1d it answers that day; anything else
 * is another window's data (a Kubecost whose days are not UTC days, a cache or proxy answering
 * another request). Written, it would be counted on two days; the day fails instead.
 */
function outsideDay(
  product: string,
  name: string,
  window: {start: number; end: number},
  day: {start: number; end: number},
): KubecostResponseError {
  const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z')
  return new KubecostResponseError(
    `${product} returned allocation ${JSON.stringify(abbreviate(name, 200))} with the window ${iso(window.start)} to ${iso(window.end)}, not within the day asked for, ${iso(day.start).slice(0, 10)} (${iso(day.start)} to ${iso(day.end)}); the day is not written`,
    {
      suggestions: [
        `${product} answered for another window than the one asked: check that its daily data is aligned to UTC midnight (no UTC offset configured for its ETL) and that no cache or proxy in front of it serves another request's answer. The next run tries the day again.`,
      ],
    },
  )
}

/** Epoch milliseconds of an ISO timestamp, else the fallback; remembers the last text it parsed. */
class TimestampCache {
  private text = ''
  private parsed = Number.NaN

  ms(value: unknown, fallback: number): number {
    if (typeof value !== 'string') return fallback
    if (value !== this.text) {
      this.text = value
      this.parsed = Date.parse(value)
    }

    return Number.isNaN(this.parsed) ? fallback : this.parsed
  }
}

/** Without listing the keys, as `Object.keys(value).length === 0` would for every row. */
function isEmpty(value: Json): boolean {
  for (const key in value) if (Object.hasOwn(value, key)) return false
  return true
}

type NumericSource = Partial<Record<NumericField, unknown>>

/**
 * The allocation's NUMERIC_FIELDS values, in that order, each read by name at its own site: the
 * allocations of a response share one shape, so every read stays monomorphic, where one keyed read
 * of 36 names is megamorphic (measured: most of the builder's time). test/lib/rows.test.ts checks
 * the list against NUMERIC_FIELDS.
 */
export function readNumbers(a: NumericSource, out: unknown[]): void {
  out[0] = a.minutes
  out[1] = a.cpuCores
  out[2] = a.cpuCoreRequestAverage
  out[3] = a.cpuCoreUsageAverage
  out[4] = a.cpuCoreHours
  out[5] = a.cpuCost
  out[6] = a.cpuCostAdjustment
  out[7] = a.cpuEfficiency
  out[8] = a.gpuCount
  out[9] = a.gpuHours
  out[10] = a.gpuCost
  out[11] = a.gpuCostAdjustment
  out[12] = a.networkTransferBytes
  out[13] = a.networkReceiveBytes
  out[14] = a.networkCost
  out[15] = a.networkCrossZoneCost
  out[16] = a.networkCrossRegionCost
  out[17] = a.networkInternetCost
  out[18] = a.networkCostAdjustment
  out[19] = a.loadBalancerCost
  out[20] = a.loadBalancerCostAdjustment
  out[21] = a.pvBytes
  out[22] = a.pvByteHours
  out[23] = a.pvCost
  out[24] = a.pvCostAdjustment
  out[25] = a.ramBytes
  out[26] = a.ramByteRequestAverage
  out[27] = a.ramByteUsageAverage
  out[28] = a.ramByteHours
  out[29] = a.ramCost
  out[30] = a.ramCostAdjustment
  out[31] = a.ramEfficiency
  out[32] = a.sharedCost
  out[33] = a.externalCost
  out[34] = a.totalCost
  out[35] = a.totalEfficiency
}

/** An allocation's totalCost as Kubecost reported it (0 when it has none): what a day's total sums. */
export function totalCostOf(allocation: unknown): number {
  const value = (allocation as {totalCost?: unknown}).totalCost
  return typeof value === 'number' ? value : 0
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
