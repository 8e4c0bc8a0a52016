/**
 * Rows built on a parse thread, in the form they cross to the main thread: every number of every row
 * in one Float64Array and every string as an index into the batch's own dictionary of its column, in
 * one Uint32Array, both row by row. The two buffers are moved between the threads, not copied, and
 * come back for the next batch. The Parquet writer copies a row out of a batch value by value, in
 * column order, exactly as if the row had been built in place, so the file does not depend on where
 * its rows were built.
 */
import {KubecostResponseError} from '../errors.js'
import type {DictionaryMapping} from '../parquet/strings.js'
import type {RowSink} from '../rows.js'
import type {ColumnShape} from '../schema.js'

export interface RowBatch {
  rows: number
  /** Numbers per row, in column order (timestamps as epoch ms). */
  numbersPerRow: number
  numbers: Float64Array
  stringsPerRow: number
  /** Per row and string column, the index of its value in that column's `values`. */
  ids: Uint32Array
  /** Per string column (in column order), its distinct values in the order of their first row. */
  values: string[][]
  /** Per string column, what its values are in the file's dictionary: made by the writer that copies the rows. */
  mappings?: DictionaryMapping[]
}

/** Buffers of an earlier batch, to build the next one in. */
export interface BatchBuffers {
  numbers?: ArrayBuffer
  ids?: ArrayBuffer
}

/** Builds a RowBatch: a RowSink that grows as rows arrive. */
export class BatchSink implements RowSink {
  rows = 0
  private column = 0
  private numberAt = 0
  private idAt = 0
  private readonly numbersPerRow: number
  private readonly stringsPerRow: number
  /** Per column: its index among the string columns, or -1 for a number column. */
  private readonly stringSlot: Int32Array
  private numbers: Float64Array
  private ids: Uint32Array
  private readonly values: string[][]
  private readonly lookups: Array<Map<string, number>>
  /** Per string column, the last value and its index: a column often repeats the previous row's. */
  private readonly lastValues: string[]
  private readonly lastIds: Int32Array

  constructor(
    private readonly shapes: readonly ColumnShape[],
    rows: number,
    reuse: BatchBuffers = {},
  ) {
    let strings = 0
    this.stringSlot = Int32Array.from(shapes, c => (c.type === 'string' ? strings++ : -1))
    this.stringsPerRow = strings
    this.numbersPerRow = shapes.length - strings
    this.numbers = buffer(Float64Array, reuse.numbers, rows * this.numbersPerRow)
    this.ids = buffer(Uint32Array, reuse.ids, rows * this.stringsPerRow)
    this.values = Array.from({length: strings}, () => [])
    this.lookups = Array.from({length: strings}, () => new Map<string, number>())
    this.lastValues = Array.from({length: strings}, () => '')
    this.lastIds = new Int32Array(strings).fill(-1)
  }

  number(value: number): void {
    if (this.stringSlot[this.column++] !== -1) throw new TypeError(`column ${this.column - 1} does not take a number`)
    if (this.numberAt === this.numbers.length) this.numbers = grown(this.numbers)
    this.numbers[this.numberAt++] = value
  }

  string(value: string): void {
    const slot = this.stringSlot[this.column++] as number
    if (slot < 0) throw new TypeError(`column ${this.column - 1} does not take a string`)
    let id = this.lastIds[slot] as number
    if (id < 0 || value !== this.lastValues[slot]) {
      const lookup = this.lookups[slot] as Map<string, number>
      const known = lookup.get(value)
      if (known === undefined) {
        id = (this.values[slot] as string[]).push(value) - 1
        lookup.set(value, id)
      } else id = known

      this.lastValues[slot] = value
      this.lastIds[slot] = id
    }

    if (this.idAt === this.ids.length) this.ids = grown(this.ids)
    this.ids[this.idAt++] = id
  }

  endRow(): void {
    if (this.column !== this.shapes.length)
      throw new TypeError(`a row has ${this.column} values, the schema ${this.shapes.length} columns`)
    this.column = 0
    this.rows++
  }

  /** Drops the row being written (its builder failed half way). */
  abandonRow(): void {
    this.column = 0
    this.numberAt = this.rows * this.numbersPerRow
    this.idAt = this.rows * this.stringsPerRow
  }

  /** The batch, and the buffers to move with it. */
  finish(): {batch: RowBatch; transfer: ArrayBuffer[]} {
    const {rows, numbersPerRow, numbers, stringsPerRow, ids, values} = this
    const batch: RowBatch = {rows, numbersPerRow, numbers, stringsPerRow, ids, values}
    return {batch, transfer: [numbers.buffer as ArrayBuffer, ids.buffer as ArrayBuffer]}
  }
}

/** A typed array over `reuse` when it is large enough, else a new one of `length` (at least 1). */
function buffer<T extends Float64Array | Uint32Array>(
  Type: {new (source: ArrayBuffer | number): T; BYTES_PER_ELEMENT: number},
  reuse: ArrayBuffer | undefined,
  length: number,
): T {
  const wanted = Math.max(1, length)
  return reuse && reuse.byteLength >= wanted * Type.BYTES_PER_ELEMENT ? new Type(reuse) : new Type(wanted)
}

function grown<T extends Float64Array | Uint32Array>(array: T): T {
  const next = new (array.constructor as new (length: number) => T)(array.length * 2)
  next.set(array)
  return next
}

/** An entry whose row a parse thread built: what the consumer writes in the entry's place. */
export class BuiltRow {
  constructor(
    readonly batch: RowBatch,
    /** The row in `batch`; -1 for an entry that is not an allocation (or whose row failed). */
    readonly row: number,
    readonly totalCost: number,
    readonly failure?: {message: string; suggestions: string[]},
  ) {}

  /** Writes the row; false for an entry that is not an allocation. Throws the row's failure, as building it would have. */
  writeTo(writer: {copyRow(batch: RowBatch, row: number): void}): boolean {
    if (this.failure) throw new KubecostResponseError(this.failure.message, {suggestions: this.failure.suggestions})
    if (this.row < 0) return false
    writer.copyRow(this.batch, this.row)
    return true
  }
}
