/** RowSpool: many slots' rows, interleaved as an answer brings them, back out per slot, exactly and in order. */
import assert from 'node:assert/strict'
import {readdirSync} from 'node:fs'
import {after, before, describe, it} from 'node:test'

import {RowSpool} from '../../src/lib/row-spool.js'
import {type Row, RowCollector} from '../../src/lib/rows.js'
import type {ColumnShape} from '../../src/lib/schema.js'
import {tempDir} from '../helpers.js'

const COLUMNS: ColumnShape[] = [
  {name: 'name', type: 'string'},
  {name: 'window.start', type: 'timestamp'},
  {name: 'totalCost', type: 'double'},
  {name: 'properties.cluster', type: 'string'},
]

function rowOf(slot: number, i: number): Row {
  return [
    `cluster-${slot}/node/ns/pod-${i}/${i % 7 === 0 ? 'café ☕ \n "quoted"' : 'container'}`,
    Date.UTC(2026, 2, 1) + i,
    i % 5 === 0 ? -0 : (i * 0.1 - 3) / 7,
    i % 3 === 0 ? '' : `cluster-${slot}`,
  ]
}

function write(sink: {string(v: string): void; number(v: number): void; endRow(): void}, row: Row): void {
  for (const value of row) {
    if (typeof value === 'string') sink.string(value)
    else sink.number(value)
  }

  sink.endRow()
}

describe('RowSpool', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  before(async () => {
    dir = await tempDir()
  })
  after(async () => dir.remove())

  it("gives each slot's rows back exactly, in order, through memory and disk, within its memory budget", () => {
    const spool = new RowSpool(dir.path, COLUMNS, {budgetBytes: 8 * 1024, blockBytes: 2 * 1024})
    const expected = new Map<number, Row[]>()
    let most = 0
    // Slots of very different sizes, interleaved: 0 and 3 large, the others a row or two.
    for (let i = 0; i < 3000; i++) {
      const slot = i % 3 === 0 ? 0 : i % 3 === 1 ? 3 : 10 + (i % 40)
      if (slot >= 10 && i > 200) continue
      const row = rowOf(slot, i)
      write(spool.into(slot), row)
      expected.set(slot, [...(expected.get(slot) ?? []), row])
      most = Math.max(most, spool.heldBytes)
    }

    assert.ok(most <= 8 * 1024 + 200, `held ${most} bytes`)
    assert.ok(readdirSync(dir.path).length > 0, 'rows went to disk')
    for (const [slot, rows] of expected) {
      assert.equal(spool.rows(slot), rows.length)
      const out = new RowCollector()
      spool.replay(slot, out)
      assert.equal(out.rows.length, rows.length, `slot ${slot}`)
      rows.forEach((row, i) => assert.deepEqual(out.rows[i], row, `slot ${slot} row ${i}`))
      assert.equal(spool.rows(slot), 0)
    }

    assert.deepEqual(readdirSync(dir.path), [])
    assert.equal(spool.heldBytes, 0)
  })

  it('drops a half-written row, a dropped slot, and everything on clear', () => {
    const spool = new RowSpool(dir.path, COLUMNS, {budgetBytes: 1024, blockBytes: 512})
    for (let i = 0; i < 50; i++) write(spool.into(1), rowOf(1, i))
    for (let i = 0; i < 50; i++) write(spool.into(2), rowOf(2, i))
    // A row that fails half way (its builder threw): the next row of the slot is whole.
    const sink = spool.into(1)
    sink.string('half')
    sink.number(1)
    spool.abandonRow()
    write(spool.into(1), rowOf(1, 50))
    spool.drop(2)
    assert.equal(spool.rows(2), 0)
    const out = new RowCollector()
    spool.replay(1, out)
    assert.deepEqual(
      out.rows,
      Array.from({length: 51}, (_, i) => rowOf(1, i)),
    )

    for (let i = 0; i < 50; i++) write(spool.into(4), rowOf(4, i))
    spool.clear()
    assert.equal(spool.rows(4), 0)
    assert.equal(spool.heldBytes, 0)
    assert.deepEqual(readdirSync(dir.path), [])
  })

  it('refuses a value of the wrong kind and a row of the wrong length', () => {
    const spool = new RowSpool(dir.path, COLUMNS)
    assert.throws(() => spool.into(0).number(1), /column 0 does not take a number/)
    spool.abandonRow()
    const sink = spool.into(0)
    sink.string('x')
    assert.throws(() => sink.endRow(), /a row has 1 values, the schema 4 columns/)
    spool.clear()
  })
})
