import {closeSync, openSync, readSync, rmSync, writeSync} from 'node:fs'
import {join} from 'node:path'

import {compressSync, uncompressSync} from 'snappy'

import {localIoError} from './local-io.js'
import type {RowSink} from './rows.js'
import type {ColumnShape} from './schema.js'

/**
 * Rows of many files at once, kept compactly until each file is written in turn. Split mode
 * receives one answer holding many clusters' rows in any order; one Parquet writer per cluster
 * held a row group's buffers per cluster (~0.6 MiB each, whatever its rows). Here every row is
 * encoded as it is built into its slot's buffer: a number as 8 bytes, a string as its UTF-8 after a
 * 4-byte length, or as a 4-byte mark when it repeats the slot's previous row in that column (most
 * columns do: cluster, node, namespace, ARN). A full buffer, or all of them once together they pass
 * the memory budget, goes to the slot's own file as one Snappy block. Memory is the budget, however
 * many slots; disk is about what the Parquet files will take. A slot's rows come back in the order
 * they were written.
 */

export interface RowSpoolOptions {
  /** Bytes of rows held in memory across all slots before they go to disk. */
  budgetBytes?: number
  /** A slot's buffer is written out as one block once it holds this many bytes. */
  blockBytes?: number
}

const BUDGET_BYTES = 4 << 20
const BLOCK_BYTES = 256 << 10
const FIRST_BYTES = 4 << 10
/** Block buffers kept for reuse: enough for the few large slots of an answer, little memory. */
const SPARE_BUFFERS = 4
/** The most bytes a UTF-16 code unit takes in UTF-8. */
const UTF8_PER_UNIT = 3
/** In place of a string's length: the value is the slot's previous row's in this column. */
const REPEAT = 0xff_ff_ff_ff

/** Every field is always present (never deleted), so every slot has one shape: the hot paths stay fast. */
interface Slot {
  /** Rows written to the slot, on disk and in `buffer`. */
  rows: number
  buffer: Buffer | undefined
  view: DataView | undefined
  used: number
  /** The slot's file, once a block went there. */
  file: string | undefined
  /** The slot's last whole row's strings, by string column: what REPEAT stands for. */
  last: string[]
}

export class RowSpool implements RowSink {
  private readonly slots = new Map<number, Slot>()
  /** Per column: its index among the string columns, or -1 for a number column. */
  private readonly stringSlot: Int32Array
  private readonly budgetBytes: number
  private readonly blockBytes: number
  /** Bytes held in all slots' buffers. */
  private held = 0
  private current: Slot
  private currentId = -1
  /** Block buffers let go by flushes, for the next slot that grows past its first buffer. */
  private readonly spare: Buffer[] = []
  /** Where the row being written started in the current slot's buffer. */
  private rowStart = 0
  private column = 0
  /** The strings of the row being written, by string column. */
  private readonly row: string[]

  constructor(
    private readonly dir: string,
    columns: readonly ColumnShape[],
    options: RowSpoolOptions = {},
  ) {
    let strings = 0
    this.stringSlot = Int32Array.from(columns, c => (c.type === 'string' ? strings++ : -1))
    this.row = Array.from({length: strings}, () => '')
    this.current = this.newSlot()
    this.budgetBytes = options.budgetBytes ?? BUDGET_BYTES
    this.blockBytes = options.blockBytes ?? BLOCK_BYTES
  }

  /** The spool as a sink for `slot`'s rows; a row begun for another slot is dropped. */
  into(slot: number): RowSink {
    if (slot !== this.currentId) {
      this.abandonRow()
      let found = this.slots.get(slot)
      if (!found) this.slots.set(slot, (found = this.newSlot()))
      this.current = found
      this.currentId = slot
      this.rowStart = found.used
    }

    return this
  }

  rows(slot: number): number {
    return this.slots.get(slot)?.rows ?? 0
  }

  /** Bytes held in memory now, all slots together. */
  get heldBytes(): number {
    return this.held
  }

  number(value: number): void {
    if (this.stringSlot[this.column++] !== -1) throw new TypeError(`column ${this.column - 1} does not take a number`)
    const at = this.reserve(8)
    ;(this.current.view as DataView).setFloat64(at, value, true)
    this.commit(at + 8)
  }

  string(value: string): void {
    const index = this.stringSlot[this.column++] ?? -1
    if (index < 0) throw new TypeError(`column ${this.column - 1} does not take a string`)
    this.row[index] = value
    const slot = this.current
    if (slot.rows > 0 && slot.last[index] === value) {
      const at = this.reserve(4)
      ;(slot.view as DataView).setUint32(at, REPEAT, true)
      this.commit(at + 4)
      return
    }

    const at = this.reserve(4 + value.length * UTF8_PER_UNIT)
    const length = (slot.buffer as Buffer).write(value, at + 4, 'utf8')
    ;(slot.view as DataView).setUint32(at, length, true)
    this.commit(at + 4 + length)
  }

  endRow(): void {
    if (this.column !== this.stringSlot.length)
      throw new TypeError(`a row has ${this.column} values, the schema ${this.stringSlot.length} columns`)
    this.column = 0
    const slot = this.current
    slot.rows++
    for (let i = 0; i < this.row.length; i++) slot.last[i] = this.row[i] as string
    this.rowStart = slot.used
    if (slot.used >= this.blockBytes) this.flush(this.currentId, slot)
    if (this.held > this.budgetBytes) for (const [id, other] of this.slots) this.flush(id, other)
  }

  /** Drops the row being written (its builder failed half way). */
  abandonRow(): void {
    this.held -= this.current.used - this.rowStart
    this.current.used = this.rowStart
    this.column = 0
  }

  /** Writes `slot`'s rows, in order, into `sink`, then forgets them. */
  replay(slot: number, sink: RowSink): void {
    const found = this.slots.get(slot)
    if (!found) return
    this.abandonRow()
    try {
      const last = Array.from(this.row, () => '')
      if (found.file) this.replayFile(found.file, sink, last)
      if (found.buffer) this.replayBlock(found.buffer.subarray(0, found.used), sink, last)
    } finally {
      this.drop(slot)
    }
  }

  /** Forgets `slot`'s rows. */
  drop(slot: number): void {
    const found = this.slots.get(slot)
    if (!found) return
    if (slot === this.currentId) this.abandonRow()
    this.held -= found.used
    if (found.file) rmSync(found.file, {force: true})
    this.slots.delete(slot)
    if (slot === this.currentId) {
      this.current = this.newSlot()
      this.currentId = -1
      this.rowStart = 0
    }
  }

  /** Forgets every slot's rows. */
  clear(): void {
    for (const slot of [...this.slots.keys()]) this.drop(slot)
  }

  private newSlot(): Slot {
    return {rows: 0, buffer: undefined, view: undefined, used: 0, file: undefined, last: Array.from(this.row, () => '')}
  }

  /** Room for `bytes` more in the current slot's buffer; the offset to write at. */
  private reserve(bytes: number): number {
    const slot = this.current
    const needed = slot.used + bytes
    if (!slot.buffer || slot.buffer.length < needed) {
      // A slot that outgrows its first buffer is likely a large one: it takes a whole block's buffer if one is spare.
      const spare = slot.buffer && this.spare.at(-1)
      const grown =
        spare && spare.length >= needed
          ? (this.spare.pop() as Buffer)
          : Buffer.allocUnsafe(Math.max(needed, FIRST_BYTES, (slot.buffer?.length ?? 0) * 2))
      slot.buffer?.copy(grown, 0, 0, slot.used)
      slot.buffer = grown
      slot.view = new DataView(grown.buffer, grown.byteOffset, grown.length)
    }

    return slot.used
  }

  private commit(end: number): void {
    this.held += end - this.current.used
    this.current.used = end
  }

  /** The slot's complete rows to its file as one block; the buffer is let go (most slots hold a few rows). */
  private flush(id: number, slot: Slot): void {
    // Only whole rows: a row being written stays (it is only ever the current slot's).
    const end = slot === this.current ? this.rowStart : slot.used
    if (end === 0) return
    const buffer = slot.buffer as Buffer
    const block = compressSync(buffer.subarray(0, end))
    slot.file ??= join(this.dir, `spool-${id}`)
    const header = Buffer.alloc(4)
    header.writeUInt32LE(block.length)
    let fd: number | undefined
    try {
      fd = openSync(slot.file, 'a')
      writeAll(fd, header)
      writeAll(fd, block)
    } catch (error) {
      throw localIoError(error, {action: 'write', path: slot.file, place: 'work'})
    } finally {
      if (fd !== undefined) closeSync(fd)
    }

    const rest = slot.used - end
    this.held -= end
    if (rest === 0) {
      if (buffer.length >= this.blockBytes && this.spare.length < SPARE_BUFFERS) this.spare.push(buffer)
      slot.buffer = undefined
      slot.view = undefined
      slot.used = 0
    } else {
      buffer.copy(buffer, 0, end, slot.used)
      slot.used = rest
    }

    if (slot === this.current) this.rowStart = 0
  }

  private replayFile(file: string, sink: RowSink, last: string[]): void {
    let fd: number
    try {
      fd = openSync(file, 'r')
    } catch (error) {
      throw localIoError(error, {action: 'read', path: file, place: 'work'})
    }

    const cutOff = () =>
      localIoError(new Error('the file ends inside a block'), {action: 'read', path: file, place: 'work'})
    try {
      const header = Buffer.alloc(4)
      let position = 0
      for (;;) {
        const got = readAll(fd, header, position, file)
        if (got === 0) break
        if (got < 4) throw cutOff()
        const length = header.readUInt32LE(0)
        const block = Buffer.allocUnsafe(length)
        if (readAll(fd, block, position + 4, file) < length) throw cutOff()
        position += 4 + length
        this.replayBlock(uncompressSync(block, {asBuffer: true}) as Buffer, sink, last)
      }
    } finally {
      closeSync(fd)
    }
  }

  /** Decodes whole rows into `sink`; `last` carries each string column's previous value from block to block. */
  private replayBlock(bytes: Buffer, sink: RowSink, last: string[]): void {
    const {stringSlot} = this
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length)
    let at = 0
    while (at < bytes.length) {
      for (const index of stringSlot) {
        if (index < 0) {
          sink.number(view.getFloat64(at, true))
          at += 8
          continue
        }

        const length = view.getUint32(at, true)
        at += 4
        if (length !== REPEAT) {
          last[index] = bytes.toString('utf8', at, at + length)
          at += length
        }

        sink.string(last[index] as string)
      }

      sink.endRow()
    }
  }
}

function writeAll(fd: number, data: Buffer): void {
  let done = 0
  while (done < data.length) done += writeSync(fd, data, done, data.length - done)
}

/** Reads up to `buffer.length` bytes at `position`; fewer only at the end of the file. */
function readAll(fd: number, buffer: Buffer, position: number, file: string): number {
  let done = 0
  try {
    while (done < buffer.length) {
      const n = readSync(fd, buffer, done, buffer.length - done, position + done)
      if (n === 0) break
      done += n
    }
  } catch (error) {
    throw localIoError(error, {action: 'read', path: file, place: 'work'})
  }

  return done
}
