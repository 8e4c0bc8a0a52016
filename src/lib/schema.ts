/**
 * The Parquet column contract, defined once: each column's name, type and how its value is taken
 * from an allocation. The row builder, the Parquet writer's schema and the Glue table's columns all
 * derive from this list, so they cannot drift; adding or moving a column is one line here. The names
 * are the old exporter's, so existing Glue tables, Athena views and QuickSight datasets keep working.
 */
import type {ClusterIdentity} from './cluster.js'
import type {NodeInfo} from './nodes.js'

export type ColumnType = 'string' | 'timestamp' | 'double'

/**
 * What each column type is in each system. Parquet: strings are BYTE_ARRAY (UTF8), timestamps INT64
 * TIMESTAMP(MILLIS) (Athena's timestamp is millisecond precision; never INT96), doubles DOUBLE.
 */
export const COLUMN_TYPES: Record<ColumnType, {parquet: string; glue: string; presto: string}> = {
  string: {parquet: 'BYTE_ARRAY (UTF8)', glue: 'string', presto: 'varchar'},
  timestamp: {parquet: 'INT64 (TIMESTAMP_MILLIS)', glue: 'timestamp', presto: 'timestamp'},
  double: {parquet: 'DOUBLE', glue: 'double', presto: 'double'},
}

/** A column's name and type: all the Parquet writer needs. */
export interface ColumnShape {
  /** Column name in the Parquet file. */
  name: string
  type: ColumnType
}

type Json = Record<string, unknown>

/** One allocation, unpacked once per row: what a `computed` column's value is read from. */
export interface RowSource {
  /** The allocation's name (or its key when it has none). */
  name: string
  allocation: Json
  properties: Json
  labels: Json
  annotations: Json
  providerID: string
  /** The Assets API node it joined to, if any. */
  node: NodeInfo | undefined
  /** Node fields resolved from the allocation's labels, then the node's. */
  nodeFields: Readonly<Record<string, string>>
  cluster: ClusterIdentity
}

/**
 * Where a column's value comes from. Declarative, so the row builder reads each kind with one
 * monomorphic lookup (measured: closures per column cost the builder ~40 % more).
 */
export type ColumnSource =
  | {from: 'name'}
  | {from: 'window'; edge: 'start' | 'end'}
  | {from: 'number'; field: string}
  | {from: 'property'; field: string}
  | {from: 'node'; field: PropertyField}
  | {from: 'provider'}
  | {from: 'providerID'}
  | {from: 'cluster-arn'}
  | {from: 'cluster-name'}
  | {from: 'labels' | 'annotations'; key: string; sanitized: string}
  | {from: 'computed'; value: (row: RowSource) => string | number}

export interface Column extends ColumnShape {
  source: ColumnSource
}

export const NUMERIC_FIELDS = [
  'minutes',
  'cpuCores',
  'cpuCoreRequestAverage',
  'cpuCoreUsageAverage',
  'cpuCoreHours',
  'cpuCost',
  'cpuCostAdjustment',
  'cpuEfficiency',
  'gpuCount',
  'gpuHours',
  'gpuCost',
  'gpuCostAdjustment',
  'networkTransferBytes',
  'networkReceiveBytes',
  'networkCost',
  'networkCrossZoneCost',
  'networkCrossRegionCost',
  'networkInternetCost',
  'networkCostAdjustment',
  'loadBalancerCost',
  'loadBalancerCostAdjustment',
  'pvBytes',
  'pvByteHours',
  'pvCost',
  'pvCostAdjustment',
  'ramBytes',
  'ramByteRequestAverage',
  'ramByteUsageAverage',
  'ramByteHours',
  'ramCost',
  'ramCostAdjustment',
  'ramEfficiency',
  'sharedCost',
  'externalCost',
  'totalCost',
  'totalEfficiency',
] as const

export type NumericField = (typeof NUMERIC_FIELDS)[number]

export const PROPERTY_FIELDS = [
  'provider',
  'region',
  'cluster',
  'clusterid',
  'eksClusterName',
  'container',
  'namespace',
  'pod',
  'node',
  'node_instance_type',
  'node_availability_zone',
  'node_capacity_type',
  'node_architecture',
  'node_os',
  'node_nodegroup',
  'node_nodegroup_image',
  'controller',
  'controllerKind',
  'providerID',
] as const

export type PropertyField = (typeof PROPERTY_FIELDS)[number]

export function str(value: unknown): string {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return ''
}

const column = (name: string, type: ColumnType, source: ColumnSource): Column => ({name, type, source})
const property = (field: PropertyField, source: ColumnSource = {from: 'property', field}): Column =>
  column(`properties.${field}`, 'string', source)
const fromNode = (field: PropertyField): Column => property(field, {from: 'node', field})

/** The 58 columns every file has, in order. */
export const BASE_COLUMNS: readonly Column[] = [
  column('name', 'string', {from: 'name'}),
  column('window.start', 'timestamp', {from: 'window', edge: 'start'}),
  column('window.end', 'timestamp', {from: 'window', edge: 'end'}),
  // Absent, null or non-numeric is 0 (as the old exporter wrote); an out-of-range number fails the day.
  ...NUMERIC_FIELDS.map(field => column(field, 'double', {from: 'number', field})),
  property('provider', {from: 'provider'}),
  fromNode('region'),
  property('cluster'),
  property('clusterid', {from: 'cluster-arn'}),
  property('eksClusterName', {from: 'cluster-name'}),
  property('container'),
  property('namespace'),
  property('pod'),
  property('node'),
  fromNode('node_instance_type'),
  fromNode('node_availability_zone'),
  fromNode('node_capacity_type'),
  fromNode('node_architecture'),
  fromNode('node_os'),
  fromNode('node_nodegroup'),
  fromNode('node_nodegroup_image'),
  property('controller'),
  property('controllerKind'),
  property('providerID', {from: 'providerID'}),
]

export interface ExtraKeys {
  /** Kubernetes label keys as the user wrote them, in order. */
  labels: readonly string[]
  /** Kubernetes annotation keys as the user wrote them, in order. */
  annotations: readonly string[]
}

/** Kubecost reports label and annotation keys sanitised the Prometheus way. */
export function sanitizeKey(key: string): string {
  return key.replaceAll(/[^A-Za-z0-9_]/g, '_')
}

export type KeyKind = 'labels' | 'annotations'

/** The column a label or annotation key becomes, as the user wrote the key. */
export function keyColumnName(kind: KeyKind, key: string): string {
  return `properties.${kind}.${key}`
}

/**
 * Glue refuses a longer column name (Column.Name in the Glue API), while Kubernetes allows keys of
 * up to 317 characters: a label key of more than 237 characters, or an annotation key of more than
 * 232, cannot be a column.
 */
export const MAX_COLUMN_NAME_LENGTH = 255

/** A label or annotation column: looked up by the sanitised key Kubecost reports, else the key as written. */
function keyColumn(kind: KeyKind, key: string): Column {
  return column(keyColumnName(kind, key), 'string', {from: kind, key, sanitized: sanitizeKey(key)})
}

/** All columns of a file, in order: the 58 base columns, then labels, then annotations. */
export function contractColumns(extra: ExtraKeys, base: readonly Column[] = BASE_COLUMNS): Column[] {
  return [
    ...base,
    ...extra.labels.map(k => keyColumn('labels', k)),
    ...extra.annotations.map(k => keyColumn('annotations', k)),
  ]
}

/** The Glue table's columns for these file columns: Glue stores names lower-case (Athena matches them case-insensitively). */
export function glueColumns(columns: readonly ColumnShape[]): Array<{Name: string; Type: string}> {
  return columns.map(c => ({Name: c.name.toLowerCase(), Type: COLUMN_TYPES[c.type].glue}))
}
