/**
 * A written Parquet file is read back before it may be published: a file changed under its writer
 * (another writer on the same path, bytes overwritten, a footer that does not parse) is refused.
 */
import assert from 'node:assert/strict'
import {existsSync, openSync, closeSync, readFileSync, statSync, writeFileSync, writeSync} from 'node:fs'
import {join} from 'node:path'
import {crc32} from 'node:zlib'
import {after, before, describe, it} from 'node:test'

import {CorruptFileError} from '../../src/lib/errors.js'
import {verifyParquetFile} from '../../src/lib/parquet/verify.js'
import {ParquetWriter} from '../../src/lib/parquet/writer.js'
import type {ColumnShape as Column} from '../../src/lib/schema.js'
import {tempDir} from '../helpers.js'
import {readParquet} from '../parquet.js'

const COLUMNS: Column[] = [
  {name: 'name', type: 'string'},
  {name: 'window.start', type: 'timestamp'},
  {name: 'totalCost', type: 'double'},
]

function writeRows(writer: ParquetWriter, count: number, tag: string): void {
  for (let i = 0; i < count; i++) {
    writer.string(`${tag}/pod-${i}`)
    writer.number(Date.parse('2026-03-01T00:00:00Z'))
    writer.number(i * 0.5)
    writer.endRow()
  }
}

const corrupt = (problem: RegExp) => (error: unknown) =>
  error instanceof CorruptFileError &&
  error.exitCode === 1 &&
  error.code === 'CORRUPT_FILE' &&
  /does not read back as written/.test(error.summary) &&
  /it is not published/.test(error.summary) &&
  problem.test(error.summary)

describe('verifyParquetFile and ParquetWriter.finish', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  before(async () => {
    dir = await tempDir()
  })
  after(async () => dir.remove())

  it('passes a file the writer finished, with its rows, columns and size', async () => {
    const path = join(dir.path, 'good.parquet')
    const writer = new ParquetWriter(COLUMNS, {rowGroupRows: 1000})
    writer.open(path)
    writeRows(writer, 2_500, 'good')
    writer.finish()
    verifyParquetFile(path, {rows: 2_500, columns: 3, size: statSync(path).size, crc32: crc32(readFileSync(path))})
    assert.equal((await readParquet(path)).rows.length, 2_500)
  })

  it('refuses, and deletes, a file a second writer opened on the same path (two clusters, one work file)', () => {
    const path = join(dir.path, 'shared.parquet')
    const first = new ParquetWriter(COLUMNS, {rowGroupRows: 1000})
    const second = new ParquetWriter(COLUMNS, {rowGroupRows: 1000})
    first.open(path)
    writeRows(first, 1_100, 'east')
    second.open(path)
    writeRows(second, 1_100, 'west')
    // Both wrote rows of the same length at the same offsets: the footer parses, the checksum differs.
    assert.throws(() => first.finish(), corrupt(/its bytes on disk differ from those written \(CRC-32\)/))
    assert.equal(existsSync(path), false)
    second.discard()
  })

  it('refuses a file whose bytes were overwritten under the writer', () => {
    const path = join(dir.path, 'overwritten.parquet')
    const writer = new ParquetWriter(COLUMNS, {rowGroupRows: 100})
    writer.open(path)
    writeRows(writer, 150, 'x')
    const fd = openSync(path, 'r+')
    writeSync(fd, Buffer.from('JUNK'), 0, 4, 0)
    closeSync(fd)
    assert.throws(() => writer.finish(), corrupt(/its bytes on disk differ from those written/))
    assert.equal(existsSync(path), false)
  })

  it('refuses a footer that does not parse, one with other row counts, and a cut-off file', () => {
    const path = join(dir.path, 'footer.parquet')
    const writer = new ParquetWriter(COLUMNS, {rowGroupRows: 100})
    writer.open(path)
    writeRows(writer, 250, 'y')
    writer.finish()
    const bytes = readFileSync(path)
    const size = bytes.length
    const expected = {rows: 250, columns: 3, size, crc32: crc32(bytes)}
    assert.throws(() => verifyParquetFile(path, {...expected, rows: 251}), corrupt(/footer says 250 rows, 251/))
    assert.throws(() => verifyParquetFile(path, {...expected, columns: 4}), corrupt(/3 columns, the file 4/))
    assert.throws(() => verifyParquetFile(path, {...expected, crc32: expected.crc32 ^ 1}), corrupt(/CRC-32/))

    // What the checksum would pass, had the writer itself written it (each check holds on its own).
    const footerLength = bytes.readUInt32LE(size - 8)
    const garbled = Buffer.from(bytes)
    garbled.fill(0xff, size - 8 - footerLength, size - 8)
    writeFileSync(path, garbled)
    assert.throws(
      () => verifyParquetFile(path, {...expected, crc32: crc32(garbled)}),
      corrupt(/footer that does not parse/),
    )

    const cut = bytes.subarray(0, size - 100)
    writeFileSync(path, cut)
    assert.throws(
      () => verifyParquetFile(path, expected),
      corrupt(new RegExp(`${size - 100} bytes on disk, ${size} written`)),
    )
    assert.throws(
      () => verifyParquetFile(path, {...expected, size: size - 100, crc32: crc32(cut)}),
      corrupt(/no PAR1 magic at the end/),
    )
    const headless = Buffer.concat([Buffer.from('JUNK'), bytes.subarray(4)])
    writeFileSync(path, headless)
    assert.throws(
      () => verifyParquetFile(path, {...expected, crc32: crc32(headless)}),
      corrupt(/no PAR1 magic at the start/),
    )
  })
})
