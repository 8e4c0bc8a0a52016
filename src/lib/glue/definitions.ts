/**
 * What deploy-glue wants to exist, derived from the exporter's own column list (src/lib/schema.ts)
 * so the table can never drift from the files: the Glue table, the Athena view (as the Glue
 * VIRTUAL_VIEW the original solution's Terraform wrote) and the crawler. Plain data in the shape of
 * Glue's API, so src/lib/aws/glue.ts sends it as it is.
 */
import {COLUMN_TYPES, type ExtraKeys, contractColumns, glueColumns} from '../schema.js'

export interface GlueColumn {
  Name: string
  Type: string
}

export interface TableDefinition {
  Name: string
  TableType: string
  Parameters: Record<string, string>
  StorageDescriptor: {
    Columns: GlueColumn[]
    Location?: string
    InputFormat?: string
    OutputFormat?: string
    SerdeInfo?: {SerializationLibrary?: string; Parameters?: Record<string, string>}
    Parameters?: Record<string, string>
  }
  PartitionKeys: GlueColumn[]
  ViewOriginalText?: string
  ViewExpandedText?: string
}

export interface CrawlerDefinition {
  Name: string
  Role: string
  DatabaseName: string
  TableName: string
  Schedule: string
  UpdateBehavior: 'LOG'
  DeleteBehavior: 'LOG'
  Configuration: string
  /** Given at creation; an existing crawler is tagged on its own (UpdateCrawler takes no tags). */
  Tags: Record<string, string>
}

export interface DeployConfig {
  bucket: string
  /** Normalised: no leading or trailing slash, '' for none. */
  prefix: string
  extra: ExtraKeys
  database: string
  table: string
  crawler: string
  /** Required only to create the crawler; an existing crawler keeps its role unless one is given. */
  crawlerRoleArn?: string
  crawlerSchedule: string
  view: string
  viewMonths: number
}

/**
 * What deploy-glue sets on everything it creates, so that a later run tells its own objects from
 * anyone else's: a parameter of databases, tables and views, a tag of crawlers and workgroups.
 */
export const MARKER_KEY = 'managed-by'
export const MARKER_VALUE = 'kubecost-cid'
export const MARKER: Readonly<Record<string, string>> = {[MARKER_KEY]: MARKER_VALUE}

export const PARTITION_KEYS: readonly string[] = ['account_id', 'region', 'year', 'month']

export const CRAWLER_CONFIGURATION = JSON.stringify({
  Version: 1,
  CrawlerOutput: {Partitions: {AddOrUpdateBehavior: 'InheritFromTable'}},
  Grouping: {TableGroupingPolicy: 'CombineCompatibleSchemas'},
})

export const DEFAULT_CRAWLER_SCHEDULE = 'cron(0 1 * * ? *)'

export const PARQUET = {
  input: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  output: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  serde: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
}

export function tableLocation(bucket: string, prefix: string): string {
  return `s3://${bucket}/${prefix ? `${prefix}/` : ''}`
}

export function tableDefinition(config: DeployConfig): TableDefinition {
  return {
    Name: config.table,
    TableType: 'EXTERNAL_TABLE',
    Parameters: {classification: 'parquet', ...MARKER},
    StorageDescriptor: {
      Columns: glueColumns(contractColumns(config.extra)),
      Location: tableLocation(config.bucket, config.prefix),
      InputFormat: PARQUET.input,
      OutputFormat: PARQUET.output,
      SerdeInfo: {SerializationLibrary: PARQUET.serde, Parameters: {'serialization.format': '1'}},
      Parameters: {classification: 'parquet'},
    },
    PartitionKeys: PARTITION_KEYS.map(Name => ({Name, Type: 'string'})),
  }
}

/** The view's SQL, as the original solution wrote it: the last `months` months of rows. */
export function viewSql(database: string, table: string, months: number): string {
  return `SELECT * FROM "${database}"."${table}" WHERE ((current_date - INTERVAL '${months}' MONTH) <= "window.start")`
}

export interface PrestoView {
  originalSql: string
  catalog: string
  schema: string
  columns: Array<{name: string; type: string}>
}

/** Every column the view returns, in order: the table's columns, then the partition keys, each with its Presto type. */
export function viewColumns(extra: ExtraKeys): Array<{name: string; type: string}> {
  return [
    ...contractColumns(extra).map(c => ({name: c.name.toLowerCase(), type: COLUMN_TYPES[c.type].presto})),
    ...PARTITION_KEYS.map(name => ({name, type: COLUMN_TYPES.string.presto})),
  ]
}

export function prestoView(config: DeployConfig): PrestoView {
  return {
    originalSql: viewSql(config.database, config.table, config.viewMonths),
    catalog: 'awsdatacatalog',
    schema: config.database,
    columns: viewColumns(config.extra),
  }
}

const VIEW_TEXT = /^\/\* Presto View: ([A-Za-z0-9+/=]+) \*\/$/

export function encodeView(view: PrestoView): string {
  return `/* Presto View: ${Buffer.from(JSON.stringify(view)).toString('base64')} */`
}

/** The view JSON inside a Glue view's original text, or undefined when it is not one Athena can read. */
export function decodeView(text: string | undefined): PrestoView | undefined {
  const m = VIEW_TEXT.exec(text ?? '')
  if (!m?.[1]) return undefined
  try {
    return JSON.parse(Buffer.from(m[1], 'base64').toString('utf8')) as PrestoView
  } catch {
    return undefined
  }
}

/** The Glue VIRTUAL_VIEW Athena reads as a view, in the form the original Terraform wrote. */
export function viewDefinition(config: DeployConfig): TableDefinition {
  const prestoToHive = Object.fromEntries(Object.values(COLUMN_TYPES).map(t => [t.presto, t.glue]))
  return {
    Name: config.view,
    TableType: 'VIRTUAL_VIEW',
    Parameters: {presto_view: 'true', comment: 'Presto View', ...MARKER},
    StorageDescriptor: {
      Columns: viewColumns(config.extra).map(c => ({Name: c.name, Type: prestoToHive[c.type] ?? 'string'})),
    },
    PartitionKeys: [],
    ViewOriginalText: encodeView(prestoView(config)),
    ViewExpandedText: '/* Presto View */',
  }
}

export function crawlerDefinition(config: DeployConfig, role: string): CrawlerDefinition {
  return {
    Name: config.crawler,
    Role: role,
    DatabaseName: config.database,
    TableName: config.table,
    Schedule: config.crawlerSchedule,
    UpdateBehavior: 'LOG',
    DeleteBehavior: 'LOG',
    Configuration: CRAWLER_CONFIGURATION,
    Tags: {...MARKER},
  }
}
