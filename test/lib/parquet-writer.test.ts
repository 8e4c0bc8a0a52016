/**
 * The Parquet writer, read back by two independent readers: DuckDB (C++) and hyparquet (JavaScript).
 */
import assert from 'node:assert/strict'
import {existsSync, symlinkSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {DuckDBInstance} from '@duckdb/node-api'
import {asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects} from 'hyparquet'

import {LocalIoError} from '../../src/lib/errors.js'
import {type BatchBuffers, BatchSink} from '../../src/lib/parse/batch.js'
import {ParquetWriter} from '../../src/lib/parquet/writer.js'
import type {ColumnShape as Column} from '../../src/lib/schema.js'
import {tempDir} from '../helpers.js'
import {readParquet} from '../parquet.js'

const COLUMNS: Column[] = [
  {name: 'name', type: 'string'},
  {name: 'window.start', type: 'timestamp'},
  {name: 'totalCost', type: 'double'},
  {name: 'properties.namespace', type: 'string'},
  {name: 'properties.labels.app.kubernetes.io/name', type: 'string'},
]

interface Row {
  name: string
  start: number
  cost: number
  namespace: string
  app: string
}

function rows(count: number, offset = 0): Row[] {
  return Array.from({length: count}, (_, i) => ({
    name: `cluster/node/ns/pod-${i + offset}/container`,
    start: Date.parse('2026-03-01T00:00:00Z') + ((i + offset) % 3) * 86_400_000,
    cost: (i + offset) * 0.125 - 3.5,
    namespace: ['kube-system', 'payments', ''][(i + offset) % 3] as string,
    app: (i + offset) % 5 === 0 ? '' : `app-${(i + offset) % 4}`,
  }))
}

function writeRows(writer: ParquetWriter, data: Row[]): void {
  for (const r of data) {
    writer.string(r.name)
    writer.number(r.start)
    writer.number(r.cost)
    writer.string(r.namespace)
    writer.string(r.app)
    writer.endRow()
  }
}

async function hyparquetRows(path: string): Promise<Array<Record<string, unknown>>> {
  return parquetReadObjects({file: await asyncBufferFromFile(path)})
}

async function duckdb(sql: string): Promise<Array<Record<string, unknown>>> {
  const instance = await DuckDBInstance.create(':memory:')
  const db = await instance.connect()
  try {
    return (await db.runAndReadAll(sql)).getRowObjectsJS()
  } finally {
    db.closeSync()
    instance.closeSync()
  }
}

function expectRows(actual: Array<Record<string, unknown>>, expected: Row[]): void {
  assert.equal(actual.length, expected.length)
  expected.forEach((r, i) => {
    const a = actual[i] as Record<string, unknown>
    assert.equal(a.name, r.name)
    assert.equal(new Date(a['window.start'] as Date).getTime(), r.start)
    assert.equal(a.totalCost, r.cost)
    assert.equal(a['properties.namespace'], r.namespace)
    assert.equal(a['properties.labels.app.kubernetes.io/name'], r.app)
  })
}

describe('ParquetWriter', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  before(async () => {
    dir = await tempDir()
  })
  after(async () => dir.remove())

  it('writes the schema and values that DuckDB and hyparquet both read back', async () => {
    const path = join(dir.path, 'basic.parquet')
    const writer = new ParquetWriter(COLUMNS)
    writer.open(path)
    const data = rows(100)
    writeRows(writer, data)
    writer.finish()

    const facts = await readParquet(path)
    assert.deepEqual(
      facts.schema.map(c => [c.name, c.type, c.converted_type]),
      [
        ['name', 'BYTE_ARRAY', 'UTF8'],
        ['window.start', 'INT64', 'TIMESTAMP_MILLIS'],
        ['totalCost', 'DOUBLE', null],
        ['properties.namespace', 'BYTE_ARRAY', 'UTF8'],
        ['properties.labels.app.kubernetes.io/name', 'BYTE_ARRAY', 'UTF8'],
      ],
    )
    assert.match(String(facts.schema[1]?.logical_type), /TimestampType\(isAdjustedToUTC=0, unit=TimeUnit\(MILLIS/)
    assert.deepEqual(facts.compressions, ['SNAPPY'])
    expectRows(facts.rows, data)
    expectRows(await hyparquetRows(path), data)

    const metadata = await parquetMetadataAsync(await asyncBufferFromFile(path))
    assert.equal(metadata.num_rows, 100n)
    assert.equal(metadata.created_by, 'kubecost-cid')
    assert.deepEqual(
      metadata.schema.slice(1).map(e => e.repetition_type),
      ['OPTIONAL', 'OPTIONAL', 'OPTIONAL', 'OPTIONAL', 'OPTIONAL'],
    )
  })

  it('dictionary-encodes repetitive strings and writes mostly-unique ones PLAIN', async () => {
    const path = join(dir.path, 'encodings.parquet')
    const writer = new ParquetWriter(COLUMNS, {rowGroupRows: 20_000})
    writer.open(path)
    const data = rows(12_000)
    writeRows(writer, data)
    writer.finish()
    const encodings = await duckdb(
      `SELECT path_in_schema AS path, encodings FROM parquet_metadata('${path}') ORDER BY column_id`,
    )
    assert.deepEqual(
      encodings.map(e => [e.path, e.encodings]),
      [
        // RLE: the definition levels
        ['name', 'PLAIN, RLE'],
        ['window.start', 'PLAIN, RLE'],
        ['totalCost', 'PLAIN, RLE'],
        ['properties.namespace', 'PLAIN_DICTIONARY, RLE'],
        ['properties.labels.app.kubernetes.io/name', 'PLAIN_DICTIONARY, RLE'],
      ],
    )
    expectRows(await hyparquetRows(path), data)
  })

  it('splits rows into row groups and pages, in order', async () => {
    const path = join(dir.path, 'groups.parquet')
    const writer = new ParquetWriter(COLUMNS, {rowGroupRows: 1000, pageRows: 300})
    writer.open(path)
    const data = rows(2_500)
    writeRows(writer, data)
    writer.finish()
    const groups = await duckdb(
      `SELECT row_group_id, max(row_group_num_rows)::INTEGER AS n FROM parquet_metadata('${path}') GROUP BY 1 ORDER BY 1`,
    )
    assert.deepEqual(
      groups.map(g => g.n),
      [1000, 1000, 500],
    )
    expectRows(await duckdb(`SELECT * FROM read_parquet('${path}')`), data)
    expectRows(await hyparquetRows(path), data)
  })

  it('writes rows copied from batches byte for byte as rows written in place', async () => {
    // Many distinct names (the column goes PLAIN mid row group), repeats, small row groups: every
    // case where a batch's dictionary maps into the file's, and where that mapping goes stale.
    const data = [...rows(9_000), ...rows(3_000, 50)]
    const direct = join(dir.path, 'direct.parquet')
    const copied = join(dir.path, 'copied.parquet')
    const options = {rowGroupRows: 4_000, pageRows: 700}
    const writer = new ParquetWriter(COLUMNS, options)
    writer.open(direct)
    writeRows(writer, data)
    writer.finish()

    const copier = new ParquetWriter(COLUMNS, options)
    copier.open(copied)
    let reuse: BatchBuffers | undefined
    for (let at = 0; at < data.length; at += 937) {
      const sink = new BatchSink(COLUMNS, 100, reuse)
      writeRows(sink as unknown as ParquetWriter, data.slice(at, at + 937))
      const {batch} = sink.finish()
      assert.equal(batch.rows, Math.min(937, data.length - at))
      for (let row = 0; row < batch.rows; row++) copier.copyRow(batch, row)
      reuse = {numbers: batch.numbers.buffer as ArrayBuffer, ids: batch.ids.buffer as ArrayBuffer}
    }

    copier.finish()
    assert.ok((await readFile(direct)).equals(await readFile(copied)))
    expectRows(await hyparquetRows(copied), data)
  })

  it('builds batches that drop a half-written row and refuse values of the wrong kind', () => {
    const sink = new BatchSink(COLUMNS, 1)
    sink.string('a')
    sink.number(1)
    sink.abandonRow()
    writeRows(sink as unknown as ParquetWriter, rows(3))
    const {batch} = sink.finish()
    assert.equal(batch.rows, 3)
    // (the dropped row's value may stay in the batch's dictionary: no row refers to it)
    const names = [0, 1, 2].map(r => batch.values[0]?.[batch.ids[r * batch.stringsPerRow] as number])
    assert.deepEqual(
      names,
      rows(3).map(r => r.name),
    )
    assert.deepEqual([...batch.numbers.subarray(0, 2)], [rows(1)[0]?.start, rows(1)[0]?.cost])
    assert.throws(() => sink.number(1), /column 0 does not take a number/)
    const other = new BatchSink(COLUMNS, 1)
    other.string('x')
    assert.throws(() => other.string('y'), /column 1 does not take a string/)
    assert.throws(() => other.endRow(), /a row has 2 values, the schema 5 columns/)
    const writer = new ParquetWriter([{name: 'only', type: 'string'}])
    writer.open(join(dir.path, 'mismatch.parquet'))
    assert.throws(() => writer.copyRow(batch, 0), /a batch has 5 columns, the schema 1/)
    writer.discard()
  })

  it('writes timestamps exactly across the 32-bit boundaries, before 1970 and far ahead', async () => {
    const path = join(dir.path, 'timestamps.parquet')
    const columns: Column[] = [{name: 't', type: 'timestamp'}]
    const values = [
      0,
      -1,
      1,
      2 ** 31 - 1,
      2 ** 31,
      2 ** 32 - 1,
      2 ** 32,
      2 ** 32 + 1,
      -(2 ** 32),
      -(2 ** 32) - 1,
      Date.parse('1901-12-13T20:45:52.123Z'),
      Date.parse('2026-06-07T00:00:00Z'),
      8.64e15,
      -8.64e15,
    ]
    const writer = new ParquetWriter(columns, {pageRows: 4})
    writer.open(path)
    for (const value of values) {
      writer.number(value)
      writer.endRow()
    }

    writer.finish()
    const read = await duckdb(`SELECT epoch_ms("t")::VARCHAR AS ms FROM read_parquet('${path}')`)
    assert.deepEqual(
      read.map(r => Number(r.ms)),
      values,
    )
  })

  it('dictionary-encodes runs of repeated values exactly, across row groups, pages and index widths', async () => {
    const path = join(dir.path, 'runs.parquet')
    const columns: Column[] = [
      {name: 'run', type: 'string'},
      {name: 'wide', type: 'string'},
    ]
    // runs that cross row-group (1000) and page (300) boundaries, and dictionaries of 1 to 8000 entries
    const data = Array.from({length: 3000}, (_, i) => [
      i < 1500 ? `run-${Math.floor(i / 7)}` : 'same',
      i < 1000 ? 'only' : `w-${i % (i < 2000 ? 2 : 777)}`,
    ])
    const widths = Array.from({length: 8000}, (_, i) => [i % 2 === 0 ? 'x' : 'y', `v-${i}`])
    const writer = new ParquetWriter(columns, {rowGroupRows: 1000, pageRows: 300})
    writer.open(path)
    for (const [a, b] of data) {
      writer.string(a as string)
      writer.string(b as string)
      writer.endRow()
    }

    writer.finish()
    const read = await hyparquetRows(path)
    assert.deepEqual(
      read.map(r => [r.run, r.wide]),
      data,
    )

    const widePath = join(dir.path, 'widths.parquet')
    const wide = new ParquetWriter(columns, {rowGroupRows: 8000})
    wide.open(widePath)
    for (const [a, b] of widths) {
      wide.string(a as string)
      wide.string(b as string)
      wide.endRow()
    }

    wide.finish()
    const encodings = await duckdb(`SELECT encodings FROM parquet_metadata('${widePath}') ORDER BY column_id`)
    assert.deepEqual(
      encodings.map(e => e.encodings),
      ['PLAIN_DICTIONARY, RLE', 'PLAIN_DICTIONARY, RLE'],
    )
    assert.deepEqual(
      (await hyparquetRows(widePath)).map(r => [r.run, r.wide]),
      widths,
    )
  })

  it('keeps strings exactly: unicode, quotes, backslashes, newlines, empty', async () => {
    const path = join(dir.path, 'strings.parquet')
    const writer = new ParquetWriter(COLUMNS)
    writer.open(path)
    const tricky = [
      '',
      'ünïcødé',
      '日本語',
      'emoji 🚀',
      'say "hi"',
      'back\\slash',
      'multi\nline',
      'tab\there',
      ' padded ',
    ]
    const data = tricky.map((s, i) => ({name: s, start: 0, cost: -0.5 * i, namespace: s, app: s}))
    writeRows(writer, data)
    writer.finish()
    expectRows(await duckdb(`SELECT * FROM read_parquet('${path}')`), data)
    expectRows(await hyparquetRows(path), data)
  })

  it('forgets everything on reset, and reuses its buffers for the next file', async () => {
    const first = join(dir.path, 'first.parquet')
    const second = join(dir.path, 'second.parquet')
    const writer = new ParquetWriter(COLUMNS, {rowGroupRows: 1000})
    writer.open(first)
    writeRows(writer, rows(1_500, 7))
    writer.reset()
    assert.equal(writer.rows, 0)
    const kept = rows(1_200)
    writeRows(writer, kept)
    writer.finish()
    writer.open(second)
    const other = rows(40, 100_000)
    writeRows(writer, other)
    writer.finish()
    expectRows(await hyparquetRows(first), kept)
    expectRows(await duckdb(`SELECT * FROM read_parquet('${second}')`), other)
  })

  it(
    'reports a full device as a local I/O error naming the file, and can open the next file',
    {skip: !existsSync('/dev/full') && 'needs /dev/full'},
    () => {
      // A link to /dev/full: every write fails with ENOSPC, and discarding removes only the link.
      const full = join(dir.path, 'full.parquet')
      symlinkSync('/dev/full', full)
      const writer = new ParquetWriter(COLUMNS)
      assert.throws(
        () => writer.open(full),
        (error: unknown) =>
          error instanceof LocalIoError &&
          error.errno === 'ENOSPC' &&
          error.summary === `Could not write ${full} (ENOSPC: no space left on the device)`,
      )
      assert.equal(existsSync(full), false)
      const next = join(dir.path, 'after-full.parquet')
      writer.open(next)
      writeRows(writer, rows(2))
      writer.finish()
      assert.equal(writer.rows, 2)
    },
  )

  it('reports a file it cannot create as a local I/O error', () => {
    const writer = new ParquetWriter(COLUMNS)
    assert.throws(
      () => writer.open(join(dir.path, 'missing', 'x.parquet')),
      (error: unknown) =>
        error instanceof LocalIoError && error.errno === 'ENOENT' && /Point TMPDIR/.test(error.suggestions.join()),
    )
  })

  it('deletes the file on discard, and refuses a row of the wrong shape', () => {
    const path = join(dir.path, 'discarded.parquet')
    const writer = new ParquetWriter(COLUMNS)
    writer.open(path)
    writeRows(writer, rows(3))
    writer.discard()
    assert.equal(existsSync(path), false)

    writer.open(path)
    assert.throws(() => writer.number(1), /column 0 does not take a number/)
    writer.discard()
    writer.open(path)
    writer.string('only one value')
    assert.throws(() => writer.endRow(), /a row has 1 values, the schema 5 columns/)
    writer.discard()
  })

  it('keeps a finished file when asked to discard afterwards', () => {
    const path = join(dir.path, 'kept.parquet')
    const writer = new ParquetWriter(COLUMNS)
    writer.open(path)
    writeRows(writer, rows(2))
    writer.finish()
    writer.discard()
    assert.equal(existsSync(path), true)
  })

  it('refuses to open a second file before the first is finished', () => {
    const writer = new ParquetWriter(COLUMNS)
    writer.open(join(dir.path, 'a.parquet'))
    assert.throws(() => writer.open(join(dir.path, 'b.parquet')), /a\.parquet is still open/)
    writer.discard()
  })
})
