/**
 * One string column of the row group being built. Values are dictionary-encoded while the
 * dictionary stays small; a column whose values turn out mostly unique (allocation names, pods)
 * switches to PLAIN and keeps its values as UTF-8 bytes rather than as JavaScript strings, so the
 * heap does not fill with a row group's worth of strings. A column that went PLAIN stays PLAIN for
 * the following row groups of the file.
 */

import type {Scratch} from './scratch.js'

const MAX_DICTIONARY_ENTRIES = 8192
const MAX_DICTIONARY_BYTES = 1 << 20

/**
 * What a batch's own dictionary of a column (see RowBatch) maps to in a StringColumn's, learnt as
 * rows are copied: a value seen once in the batch is not looked up again.
 */
export interface DictionaryMapping {
  /** The StringColumn's dictionary the indices are of (see `StringColumn.epoch`). */
  epoch: number
  /** Per value of the batch's dictionary, its index in the column's, or -1. */
  indices: Int32Array
}

export class StringColumn {
  rows = 0
  /** Changes whenever the dictionary starts over or is dropped: mappings to the old one are void. */
  epoch = 0
  private plain = false
  private readonly indices: Int32Array
  private dictionary: string[] = []
  private lookup = new Map<string, number>()
  private dictionaryBytes = 0
  /** The last value added while dictionary-encoding, and its index (undefined: none yet). */
  private lastValue = ''
  private lastIndex: number | undefined
  private bytes = Buffer.allocUnsafe(1 << 16)
  private used = 0
  /** End offset in `bytes` of each row's value; allocated when the column goes PLAIN. */
  private ends: Uint32Array | undefined

  constructor(private readonly capacity: number) {
    this.indices = new Int32Array(capacity)
  }

  get dictionaryEncoded(): boolean {
    return !this.plain
  }

  get dictionarySize(): number {
    return this.dictionary.length
  }

  add(value: string): void {
    if (this.plain) {
      this.appendPlain(value)
      return
    }

    // A column often repeats the previous row's value (a pod's containers, a node's pods): no hashing then.
    let index = value === this.lastValue ? this.lastIndex : this.lookup.get(value)
    if (index === undefined) {
      if (this.dictionary.length >= MAX_DICTIONARY_ENTRIES || this.dictionaryBytes >= MAX_DICTIONARY_BYTES) {
        this.switchToPlain()
        this.appendPlain(value)
        return
      }

      index = this.dictionary.push(value) - 1
      this.lookup.set(value, index)
      this.dictionaryBytes += 4 + Buffer.byteLength(value)
    }

    this.lastValue = value
    this.lastIndex = index
    this.indices[this.rows++] = index
  }

  /** Adds `value`, which is value `local` of a batch whose mapping to this column is `mapping`. */
  addMapped(value: string, local: number, mapping: DictionaryMapping): void {
    if (this.plain) {
      this.appendPlain(value)
      return
    }

    if (mapping.epoch !== this.epoch) {
      mapping.indices.fill(-1)
      mapping.epoch = this.epoch
    }

    const known = mapping.indices[local] as number
    if (known >= 0) {
      this.lastValue = value
      this.lastIndex = known
      this.indices[this.rows++] = known
      return
    }

    this.add(value)
    if (mapping.epoch === this.epoch) mapping.indices[local] = this.lastIndex as number
  }

  /** Starts the next row group. */
  clear(): void {
    this.epoch++
    this.rows = 0
    this.used = 0
    this.dictionary = []
    this.lookup = new Map()
    this.dictionaryBytes = 0
    this.lastIndex = undefined
  }

  /** Forgets the PLAIN decision too: a new file starts over. */
  restart(): void {
    this.clear()
    this.plain = false
  }

  /** The dictionary page body: each entry PLAIN (4-byte length and UTF-8 bytes). */
  dictionaryPage(scratch: Scratch): Buffer {
    const out = scratch.take(this.dictionaryBytes)
    let at = 0
    for (const value of this.dictionary) {
      const length = out.write(value, at + 4)
      out.writeUInt32LE(length, at)
      at += 4 + length
    }

    return out
  }

  /** The values of rows `start`…`start+count-1` as a data page body, after `prefix` (the levels). */
  page(scratch: Scratch, prefix: Buffer, start: number, count: number): Buffer {
    if (this.plain) {
      const ends = this.ends as Uint32Array
      const from = start === 0 ? 0 : (ends[start - 1] as number)
      const to = ends[start + count - 1] as number
      const out = scratch.take(prefix.length + to - from)
      prefix.copy(out, 0)
      this.bytes.copy(out, prefix.length, from, to)
      return out
    }

    return bitPackedIndices(scratch, prefix, this.indices, start, count, this.dictionary.length)
  }

  private switchToPlain(): void {
    const {dictionary, indices} = this
    const rows = this.rows
    this.plain = true
    this.epoch++
    this.ends ??= new Uint32Array(this.capacity)
    this.rows = 0
    this.used = 0
    for (let r = 0; r < rows; r++) this.appendPlain(dictionary[indices[r] as number] as string)
    this.dictionary = []
    this.lookup = new Map()
    this.dictionaryBytes = 0
  }

  private appendPlain(value: string): void {
    const worst = this.used + 4 + value.length * 3
    if (worst > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(worst, this.bytes.length * 2))
      this.bytes.copy(grown, 0, 0, this.used)
      this.bytes = grown
    }

    const length = this.bytes.write(value, this.used + 4)
    this.bytes.writeUInt32LE(length, this.used)
    this.used += 4 + length
    ;(this.ends as Uint32Array)[this.rows++] = this.used
  }
}

/** Dictionary indices: a bit-width byte, then one bit-packed run of the RLE/bit-packing hybrid. */
function bitPackedIndices(
  scratch: Scratch,
  prefix: Buffer,
  indices: Int32Array,
  start: number,
  count: number,
  dictionarySize: number,
): Buffer {
  const width = Math.max(1, Math.ceil(Math.log2(dictionarySize)))
  const groups = Math.ceil(count / 8)
  const header = varint((groups << 1) | 1)
  const out = scratch.take(prefix.length + 1 + header.length + groups * width)
  prefix.copy(out, 0)
  let at = prefix.length
  out[at++] = width
  out.set(header, at)
  at += header.length
  // Integer arithmetic: a width is at most 13 bits (MAX_DICTIONARY_ENTRIES), so with fewer than 8 bits
  // pending the accumulator stays below 2^21.
  let bits = 0
  let filled = 0
  const end = start + count
  for (let i = start; i < start + groups * 8; i++) {
    bits |= (i < end ? (indices[i] as number) : 0) << filled
    filled += width
    while (filled >= 8) {
      out[at++] = bits & 0xff
      bits >>>= 8
      filled -= 8
    }
  }

  return out
}

export function varint(value: number): number[] {
  const bytes: number[] = []
  let v = value
  while (v >= 0x80) {
    bytes.push((v & 0x7f) | 0x80)
    v = Math.floor(v / 128)
  }

  bytes.push(v)
  return bytes
}
