import type {DuckDBAppender, DuckDBConnection, DuckDBInstance} from '@duckdb/node-api'

import {ParquetWriteError, describeCause} from './errors.js'
import type {Row} from './rows.js'
import type {Column, ColumnType} from './schema.js'

const DUCKDB_TYPES: Record<ColumnType, string> = {
  string: 'VARCHAR',
  // Athena's timestamp is millisecond precision; DuckDB writes TIMESTAMP_MS as INT64 TIMESTAMP(MILLIS).
  timestamp: 'TIMESTAMP_MS',
  double: 'DOUBLE',
}

export const ROW_GROUP_SIZE = 100_000

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`
}

type DuckDB = typeof import('@duckdb/node-api')

/**
 * Writes contract rows to Snappy Parquet through DuckDB: V1 data pages, dictionary encoding, typed
 * from the schema alone. DuckDB is loaded on first use, so commands that write nothing never pay
 * for it.
 */
export class ParquetEngine {
  private constructor(
    private readonly duckdb: DuckDB,
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  static async start(options: {threads?: number; memoryLimit?: string; tempDirectory?: string} = {}): Promise<ParquetEngine> {
    try {
      const duckdb = await import('@duckdb/node-api')
      const config: Record<string, string> = {threads: String(options.threads ?? 2)}
      if (options.memoryLimit) config.memory_limit = options.memoryLimit
      if (options.tempDirectory) config.temp_directory = options.tempDirectory
      const instance = await duckdb.DuckDBInstance.create(':memory:', config)
      const connection = await instance.connect()
      return new ParquetEngine(duckdb, instance, connection)
    } catch (error) {
      throw new ParquetWriteError(`Could not start the Parquet engine (DuckDB): ${describeCause(error)}`, {cause: error})
    }
  }

  /** Starts a new file; rows are appended as they arrive and the file is written by `finish`. */
  async newFile(columns: readonly Column[]): Promise<ParquetFileWriter> {
    const table = `day_${Date.now()}_${Math.random().toString(36).slice(2, 8)}`
    const ddl = columns.map((c) => `${quoteIdentifier(c.name)} ${DUCKDB_TYPES[c.type]}`).join(', ')
    await this.connection.run(`CREATE TABLE ${table} (${ddl})`)
    const appender = await this.connection.createAppender(table)
    return new ParquetFileWriter(this.duckdb, this.connection, appender, table, columns)
  }

  close(): void {
    this.connection.closeSync()
    this.instance.closeSync()
  }
}

export class ParquetFileWriter {
  rows = 0
  private readonly kinds: ColumnType[]
  private closed = false

  constructor(
    private readonly duckdb: DuckDB,
    private readonly connection: DuckDBConnection,
    private appender: DuckDBAppender,
    private readonly table: string,
    columns: readonly Column[],
  ) {
    this.kinds = columns.map((c) => c.type)
  }

  append(row: Row): void {
    const {appender, kinds} = this
    for (let i = 0; i < kinds.length; i++) {
      const value = row[i]
      switch (kinds[i]) {
        case 'double': {
          appender.appendDouble(value as number)
          break
        }

        case 'string': {
          appender.appendVarchar(value as string)
          break
        }

        case 'timestamp': {
          appender.appendTimestampMilliseconds(new this.duckdb.DuckDBTimestampMillisecondsValue(BigInt(value as number)))
          break
        }

        default: {
          throw new ParquetWriteError(`Row has more values than the schema has columns (${row.length} > ${kinds.length})`)
        }
      }
    }

    appender.endRow()
    this.rows++
  }

  /** Writes everything appended so far to `path` as Snappy Parquet, then releases the rows. */
  async finish(path: string): Promise<void> {
    try {
      this.appender.closeSync()
      this.closed = true
      await this.connection.run(
        `COPY ${this.table} TO ${quoteLiteral(path)} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE ${ROW_GROUP_SIZE})`,
      )
    } catch (error) {
      throw new ParquetWriteError(`Could not write Parquet file ${path}: ${describeCause(error)}`, {cause: error})
    } finally {
      await this.discard()
    }
  }

  /** Forgets every row appended so far (the response is being read again from the start). */
  async reset(): Promise<void> {
    this.appender.closeSync()
    await this.connection.run(`DELETE FROM ${this.table}`)
    this.appender = await this.connection.createAppender(this.table)
    this.rows = 0
  }

  /** Drops the rows without writing (a failed day). */
  async discard(): Promise<void> {
    if (!this.closed) {
      this.closed = true
      try {
        this.appender.closeSync()
      } catch {
        // the table is dropped next either way
      }
    }

    await this.connection.run(`DROP TABLE IF EXISTS ${this.table}`)
  }
}
