import {closeSync, fstatSync, openSync, readSync} from 'node:fs'
import {crc32} from 'node:zlib'

import {CorruptFileError} from '../errors.js'
import {localIoError} from '../local-io.js'

/**
 * Reads a written Parquet file back from disk, apart from the writer's own state, before it may be
 * published: the bytes written (their size and CRC-32), both magic numbers, a footer that parses, as
 * many rows as were written, each row group's column chunks within the file. A file that another
 * writer, a full disk or a faulty volume changed under the writer fails here instead of being
 * published as it is. The checksum is what catches a second writer whose bytes happen to line up
 * with the first's: the footer alone would still parse.
 */

const MAGIC = 'PAR1'
/** A footer larger than this is not one this tool wrote (a day's is a few KB per row group). */
const MAX_FOOTER_BYTES = 64 * 1024 * 1024

export interface ExpectedFile {
  /** Rows written. */
  rows: number
  /** Columns of the schema (its leaves). */
  columns: number
  /** Bytes written. */
  size: number
  /** CRC-32 (zlib's) of the bytes written, in order. */
  crc32: number
}

const READ_BYTES = 1 << 20

export function verifyParquetFile(path: string, expected: ExpectedFile): void {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (error) {
    throw localIoError(error, {action: 'read back', path, place: 'work'})
  }

  try {
    const problem = check(fd, path, expected)
    if (problem) {
      throw new CorruptFileError(
        `The Parquet file written at ${path} does not read back as written (${problem}); it is not published`,
        {
          suggestions: [
            'Another process, a full or failing disk may have changed the work directory (TMPDIR, the /tmp volume) while the file was written; check it. The next run collects the day again.',
          ],
        },
      )
    }
  } finally {
    closeSync(fd)
  }
}

function check(fd: number, path: string, expected: ExpectedFile): string | undefined {
  const read = (position: number, length: number): Buffer => {
    const buffer = Buffer.alloc(length)
    let done = 0
    try {
      while (done < length) {
        const n = readSync(fd, buffer, done, length - done, position + done)
        if (n === 0) break
        done += n
      }
    } catch (error) {
      throw localIoError(error, {action: 'read back', path, place: 'work'})
    }

    return buffer.subarray(0, done)
  }

  const size = fstatSync(fd).size
  if (size !== expected.size) return `${size} bytes on disk, ${expected.size} written`
  let crc = 0
  for (let at = 0; at < size; at += READ_BYTES) crc = crc32(read(at, Math.min(READ_BYTES, size - at)), crc)
  if (crc !== expected.crc32) return 'its bytes on disk differ from those written (CRC-32)'
  if (size < 12) return 'too short for a Parquet file'
  if (read(0, 4).toString('latin1') !== MAGIC) return 'no PAR1 magic at the start'
  const tail = read(size - 8, 8)
  if (tail.subarray(4).toString('latin1') !== MAGIC) return 'no PAR1 magic at the end'
  const footerLength = tail.readUInt32LE(0)
  const footerStart = size - 8 - footerLength
  if (footerLength > MAX_FOOTER_BYTES || footerStart < 4) return `a footer length of ${footerLength} bytes`

  let footer: FileFooter
  try {
    footer = readFooter(new CompactReader(read(footerStart, footerLength)))
  } catch (error) {
    return `a footer that does not parse: ${(error as Error).message}`
  }

  if (footer.rows !== expected.rows) return `the footer says ${footer.rows} rows, ${expected.rows} were written`
  if (footer.schemaColumns !== expected.columns)
    return `the footer has ${footer.schemaColumns} columns, the file ${expected.columns}`
  let groupRows = 0
  for (const [g, group] of footer.rowGroups.entries()) {
    groupRows += group.rows
    if (group.chunks.length !== expected.columns)
      return `row group ${g} has ${group.chunks.length} column chunks, the schema ${expected.columns} columns`
    for (const chunk of group.chunks) {
      if (chunk.start < 4 || chunk.start + chunk.bytes > footerStart)
        return `a column chunk of row group ${g} lies outside the file's data`
    }
  }

  if (groupRows !== footer.rows) return `its row groups hold ${groupRows} rows, the footer says ${footer.rows}`
  return undefined
}

interface FileFooter {
  rows: number
  schemaColumns: number
  rowGroups: Array<{rows: number; chunks: Array<{start: number; bytes: number}>}>
}

/** FileMetaData (parquet.thrift): the fields checked, every other one skipped. */
function readFooter(r: CompactReader): FileFooter {
  const footer: FileFooter = {rows: -1, schemaColumns: -1, rowGroups: []}
  r.struct((id, type) => {
    if (id === 2 && type === T.List) {
      // The schema's root element, then one per column.
      footer.schemaColumns = r.list(() => r.skip(T.Struct)) - 1
    } else if (id === 3 && type === T.I64) {
      footer.rows = r.int()
    } else if (id === 4 && type === T.List) {
      r.list(() => footer.rowGroups.push(readRowGroup(r)))
    } else {
      r.skip(type)
    }
  })
  if (footer.rows < 0) throw new Error('no num_rows')
  if (footer.schemaColumns < 0) throw new Error('no schema')
  return footer
}

/** RowGroup: its rows (3) and each ColumnChunk's (1) ColumnMetaData (3) extent. */
function readRowGroup(r: CompactReader): FileFooter['rowGroups'][number] {
  const group: FileFooter['rowGroups'][number] = {rows: -1, chunks: []}
  r.struct((id, type) => {
    if (id === 1 && type === T.List) {
      r.list(() => {
        const chunk = {start: -1, bytes: -1}
        r.struct((cid, ctype) => {
          if (cid !== 3 || ctype !== T.Struct) {
            r.skip(ctype)
            return
          }

          let data = -1
          let dictionary = -1
          r.struct((mid, mtype) => {
            if (mid === 7 && mtype === T.I64) chunk.bytes = r.int()
            else if (mid === 9 && mtype === T.I64) data = r.int()
            else if (mid === 11 && mtype === T.I64) dictionary = r.int()
            else r.skip(mtype)
          })
          chunk.start = dictionary >= 0 ? Math.min(dictionary, data) : data
        })
        if (chunk.start < 0 || chunk.bytes < 0) throw new Error('a column chunk without its offsets')
        group.chunks.push(chunk)
      })
    } else if (id === 3 && type === T.I64) {
      group.rows = r.int()
    } else {
      r.skip(type)
    }
  })
  if (group.rows < 0) throw new Error('a row group without num_rows')
  return group
}

/** Thrift compact protocol types. */
const T = {
  Stop: 0,
  True: 1,
  False: 2,
  Byte: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  Double: 7,
  Binary: 8,
  List: 9,
  Set: 10,
  Map: 11,
  Struct: 12,
} as const

/** Just enough of a Thrift compact protocol reader to walk a footer, bounds-checked throughout. */
class CompactReader {
  private at = 0
  private depth = 0

  constructor(private readonly bytes: Buffer) {}

  /** Calls `field` for each field of a struct, which must consume the field's value. */
  struct(field: (id: number, type: number) => void): void {
    if (++this.depth > 32) throw new Error('structs nested too deep')
    let last = 0
    for (;;) {
      const header = this.byte()
      const type = header & 0x0f
      if (type === T.Stop) break
      const delta = header >> 4
      const id = delta === 0 ? unzigzag(this.varint()) : last + delta
      last = id
      field(id, type)
    }

    this.depth--
  }

  /** Reads a list's header and calls `element` once per element; returns the count. */
  list(element: () => void): number {
    const header = this.byte()
    const count = header >> 4 === 15 ? this.varint() : header >> 4
    if (count > this.bytes.length) throw new Error(`a list of ${count} elements`)
    for (let i = 0; i < count; i++) element()
    return count
  }

  /** A zigzag varint (i16, i32, i64) as a number. */
  int(): number {
    return unzigzag(this.varint())
  }

  skip(type: number): void {
    switch (type) {
      case T.True:
      case T.False: {
        return
      }

      case T.Byte: {
        this.byte()
        return
      }

      case T.I16:
      case T.I32:
      case T.I64: {
        this.varint()
        return
      }

      case T.Double: {
        this.advance(8)
        return
      }

      case T.Binary: {
        this.advance(this.varint())
        return
      }

      case T.List:
      case T.Set: {
        const header = this.byte()
        const count = header >> 4 === 15 ? this.varint() : header >> 4
        // In a list, booleans are one byte each (not folded into a header).
        const elementType = header & 0x0f
        for (let i = 0; i < count; i++) {
          if (elementType === T.True || elementType === T.False) this.byte()
          else this.skip(elementType)
        }

        return
      }

      case T.Map: {
        const count = this.varint()
        if (count === 0) return
        const types = this.byte()
        for (let i = 0; i < count; i++) {
          this.skip(types >> 4)
          this.skip(types & 0x0f)
        }

        return
      }

      case T.Struct: {
        this.struct((_, fieldType) => this.skip(fieldType))
        return
      }

      default: {
        throw new Error(`unknown type ${type} at byte ${this.at}`)
      }
    }
  }

  private byte(): number {
    const b = this.bytes[this.at]
    if (b === undefined) throw new Error('cut off')
    this.at++
    return b
  }

  private advance(n: number): void {
    if (this.at + n > this.bytes.length) throw new Error('cut off')
    this.at += n
  }

  /** An unsigned varint up to 2^53: beyond that it is not an offset or count of a real file. */
  private varint(): number {
    let value = 0
    let scale = 1
    for (let i = 0; i < 8; i++) {
      const b = this.byte()
      value += (b & 0x7f) * scale
      if ((b & 0x80) === 0) return value
      scale *= 128
    }

    throw new Error('a varint longer than 8 bytes')
  }
}

function unzigzag(n: number): number {
  // Exact for the non-negative range of doubles' integers; n is at most 2^56.
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2
}
