import type {ColumnType} from '../schema.js'

/** Messages between the Parquet engine (main thread) and its DuckDB worker thread. */

/** Rows per DuckDB vector (STANDARD_VECTOR_SIZE): the worker appends whole chunks of this many rows. */
export const CHUNK_ROWS = 2048

/**
 * Rows per message to the worker. Small batches are short-lived: rows held longer than a young-
 * generation collection get promoted to the old heap, which then grows as garbage.
 */
export const BATCH_ROWS = 256

/**
 * Rows per Parquet row group, and per staged part. DuckDB's Parquet writer holds a whole row group
 * in memory, and the staging table holds a part, so this bounds memory whatever the size of the day.
 */
export const ROW_GROUP_SIZE = 50_000

export interface WorkerOptions {
  workDir: string
  threads: number
  memoryLimit?: string
}

/** A batch of rows, column by column: numeric columns in one column-major Float64Array, strings per column. */
export interface ColumnarRows {
  rows: number
  /** numericColumns × BATCH_ROWS values; timestamps as epoch milliseconds. */
  numbers: Float64Array
  /** One array per string column. */
  strings: string[][]
}

export type Request =
  | {op: 'open'; file: number; columns: Array<{name: string; type: ColumnType}>}
  | {op: 'append'; file: number; batch: ColumnarRows}
  | {op: 'stage'; file: number}
  | {op: 'reset'; file: number}
  | {op: 'finish'; file: number; path: string}
  | {op: 'discard'; file: number}

export type Reply = {seq: number; ok: true} | {seq: number; ok: false; message: string}
