import type {RowSink} from '../rows.js'
import type {ColumnType} from '../schema.js'
import {BATCH_ROWS, type ColumnarRows} from './protocol.js'

/**
 * Collects rows straight into columnar buffers (numbers in a Float64Array, strings per column),
 * the shape DuckDB vectors are filled from: no row objects, no boxed numbers.
 */
export class ColumnBatch implements RowSink {
  rows = 0
  private numbers: Float64Array
  private strings: string[][]
  private column = 0
  /** For each column: its index among numeric columns (≥ 0) or among string columns (-1 − index). */
  private readonly slots: number[]
  private readonly numericColumns: number
  private readonly stringColumns: number

  constructor(kinds: readonly ColumnType[]) {
    let numeric = 0
    let string = 0
    this.slots = kinds.map((k) => (k === 'string' ? -1 - string++ : numeric++))
    this.numericColumns = numeric
    this.stringColumns = string
    this.numbers = new Float64Array(numeric * BATCH_ROWS)
    this.strings = Array.from({length: string}, () => [])
  }

  get full(): boolean {
    return this.rows === BATCH_ROWS
  }

  number(value: number): void {
    const slot = this.slots[this.column++] as number
    if (slot < 0) throw new TypeError(`column ${this.column - 1} is a string column`)
    this.numbers[slot * BATCH_ROWS + this.rows] = value
  }

  string(value: string): void {
    const slot = this.slots[this.column++] as number
    if (slot >= 0) throw new TypeError(`column ${this.column - 1} is a numeric column`)
    ;(this.strings[-1 - slot] as string[]).push(value)
  }

  endRow(): void {
    if (this.column !== this.slots.length) throw new TypeError(`row has ${this.column} values, the schema ${this.slots.length} columns`)
    this.column = 0
    this.rows++
  }

  /** Hands the filled buffers over and starts empty ones. */
  take(): ColumnarRows {
    const taken = {rows: this.rows, numbers: this.numbers, strings: this.strings}
    this.numbers = new Float64Array(this.numericColumns * BATCH_ROWS)
    this.strings = Array.from({length: this.stringColumns}, () => [])
    this.rows = 0
    this.column = 0
    return taken
  }
}
