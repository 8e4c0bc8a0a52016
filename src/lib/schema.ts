/**
 * The Parquet column contract, defined once. The writer and the Glue table definition both derive
 * from it, so they cannot drift. The names are the old exporter's, so existing Glue tables, Athena
 * views and QuickSight datasets keep working.
 */

export type ColumnType = 'string' | 'timestamp' | 'double'

export interface Column {
  /** Column name in the Parquet file. */
  name: string
  type: ColumnType
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

export const BASE_COLUMNS: readonly Column[] = [
  {name: 'name', type: 'string'},
  {name: 'window.start', type: 'timestamp'},
  {name: 'window.end', type: 'timestamp'},
  ...NUMERIC_FIELDS.map((f): Column => ({name: f, type: 'double'})),
  ...PROPERTY_FIELDS.map((f): Column => ({name: `properties.${f}`, type: 'string'})),
]

export interface ExtraKeys {
  /** Kubernetes label keys as the user wrote them, in order. */
  labels: readonly string[]
  /** Kubernetes annotation keys as the user wrote them, in order. */
  annotations: readonly string[]
}

/** All columns of a file, in order: the 58 base columns, then labels, then annotations. */
export function contractColumns(extra: ExtraKeys): Column[] {
  return [
    ...BASE_COLUMNS,
    ...extra.labels.map((k): Column => ({name: `properties.labels.${k}`, type: 'string'})),
    ...extra.annotations.map((k): Column => ({name: `properties.annotations.${k}`, type: 'string'})),
  ]
}
