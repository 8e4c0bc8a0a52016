/**
 * Parsing on other threads must change nothing but the time: the entries (order, sets, keys), their
 * rows and every error are what the EnvelopeSplitter and the RowBuilder give on the main thread,
 * however the body is cut into chunks and blocks.
 */
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {once} from 'node:events'
import {after, before, describe, it} from 'node:test'
import {fileURLToPath} from 'node:url'

import {ParseThreadError} from '../../src/lib/errors.js'
import {type Entry, EnvelopeError, EnvelopeSplitter} from '../../src/lib/kubecost/envelope-splitter.js'
import {markedRuns} from '../../src/lib/kubecost/marked-entries.js'
import {NodeIndex} from '../../src/lib/nodes.js'
import {BuiltRow, type RowBatch} from '../../src/lib/parse/batch.js'
import {ParallelReader, ParsePool} from '../../src/lib/parse/pool.js'
import {type Row, RowBuilder} from '../../src/lib/rows.js'
import type {ColumnShape} from '../../src/lib/schema.js'

const encoder = new TextEncoder()
const CLUSTER = {
  arn: 'arn:aws:eks:us-east-1:111122223333:cluster/prod',
  partition: 'aws',
  region: 'us-east-1',
  accountId: '111122223333',
  name: 'prod',
}
const DAY_START = Date.parse('2026-05-01T00:00:00Z')

function nodeIndex(): NodeIndex {
  const nodes = new NodeIndex()
  nodes.add('n1', {
    type: 'Node',
    properties: {cluster: 'prod', name: 'ip-10-0-1-23.ec2.internal', providerID: 'aws:///us-east-1a/i-0abc'},
    nodeType: 'm5.large',
    labels: {label_topology_kubernetes_io_zone: 'us-east-1a'},
  })
  return nodes
}

const context = {
  cluster: CLUSTER,
  labelKeys: ['app', 'team'],
  annotationKeys: ['owner'],
  windowStartMs: DAY_START,
  windowEndMs: DAY_START + 86_400_000,
}

function allocation(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    properties: {
      cluster: 'prod',
      node: 'ip-10-0-1-23.ec2.internal',
      namespace: 'payments',
      pod: `${name}-pod`,
      container: 'api',
      providerID: 'aws:///us-east-1a/i-0abc',
      labels: {app: 'api', team: name.length % 2 === 0 ? 'even' : 'odd'},
      annotations: {owner: 'o@example.com'},
    },
    window: {start: '2026-05-01T00:00:00Z', end: '2026-05-02T00:00:00Z'},
    minutes: 1440,
    cpuCores: name.length / 7,
    ramBytes: 1073741824,
    totalCost: name.length * 0.25,
    ...extra,
  }
}

/** A set's entries as Kubecost writes them: `"<key>":{"name":...}` with nothing in between. */
const setOf = (entries: ReadonlyArray<readonly [string, unknown]>) =>
  `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`).join(',')}}`

/** An entry as both readers must give it: its place, its key, and its row (or undefined: not an allocation). */
interface Seen {
  set: number
  key: string
  row: Row | undefined
}

/** Reads a BuiltRow's row back out of its batch, column by column, as the Parquet writer would. */
function rowOf(value: BuiltRow, columns: readonly ColumnShape[]): Row | undefined {
  let row: Row | undefined
  value.writeTo({
    copyRow(batch: RowBatch, index: number) {
      row = []
      let number = index * batch.numbersPerRow
      let id = index * batch.stringsPerRow
      let slot = 0
      for (const column of columns) {
        if (column.type === 'string') row.push((batch.values[slot++] as string[])[batch.ids[id++] as number] as string)
        else row.push(batch.numbers[number++] as number)
      }
    },
  })
  return row
}

/** The entries of `body` read by the splitter alone, each row built here: the oracle. */
function sequential(body: Uint8Array, builder: RowBuilder, limits = {}): Seen[] {
  const splitter = new EnvelopeSplitter(limits)
  const entries = [...splitter.push(body), ...splitter.end()]
  return entries.map(e => ({set: e.set, key: e.key, row: builder.build(e.key, e.value)}))
}

function chunksOf(body: Uint8Array, size: number): Uint8Array[] {
  const chunks: Uint8Array[] = []
  for (let at = 0; at < body.length; at += size) chunks.push(body.slice(at, at + size))
  return chunks
}

/** The entries of `body` read with the pool, fed in chunks of `chunk` bytes; every row read back at once. */
async function parallel(
  pool: ParsePool,
  body: Uint8Array,
  chunk: number,
  builder: RowBuilder,
  limits = {},
): Promise<{seen: Seen[]; reader: ParallelReader}> {
  const reader = pool.reader(limits)
  const seen: Seen[] = []
  // Rows are read before the next push: a BuiltRow is only valid until then.
  const take = (entries: Entry[]) => {
    for (const e of entries) {
      const row = e.value instanceof BuiltRow ? rowOf(e.value, builder.columns) : builder.build(e.key, e.value)
      seen.push({set: e.set, key: e.key, row})
    }
  }

  for (const piece of chunksOf(body, chunk)) take(await reader.push(piece))
  take(await reader.end())
  return {seen, reader}
}

describe('ParsePool: entries parsed on another thread', () => {
  const builder = new RowBuilder({...context, nodes: nodeIndex()})
  const pools: ParsePool[] = []
  const poolOf = (threads: number, blockBytes: number) => {
    const pool = new ParsePool(threads, {blockBytes})
    pool.context({...context, nodes: nodeIndex().data()}, new RowBuilder({...context, nodes: nodeIndex()}))
    pools.push(pool)
    return pool
  }

  after(async () => {
    await Promise.all(pools.map(async p => p.close()))
  })

  const day = Array.from({length: 300}, (_, i) => [`prod/node/ns/pod-${i}/c`, allocation(`alloc-${i}`)] as const)
  const tricky: Array<[string, ReadonlyArray<readonly [string, unknown]>]> = [
    ['a realistic day', day],
    [
      'markers inside strings and a marker-like label value',
      [
        ['a', allocation('":{"name":"', {x: ',"', y: '\\":{\\"name\\":\\"'})],
        ['b', allocation('b', {properties: {labels: {app: '":{"name":"x', team: '","b":{"name":"'}}})],
        ...day.slice(0, 20),
      ],
    ],
    [
      'escaped quotes and backslashes in keys',
      [['k"1', allocation('one')], ['k\\2', allocation('two')], ['"', allocation('three')], ...day.slice(0, 20)],
    ],
    [
      'unicode in keys and values',
      [
        ['café/日本/ポッド', allocation('é', {properties: {labels: {app: '𝄞☕'}}})],
        ['🚀', allocation('🚀')],
        ...day.slice(0, 30),
      ],
    ],
    [
      'nested objects whose first member is "name" (markers inside an entry)',
      day
        .slice(0, 40)
        .map(([key, value], i) => [
          key,
          i % 3 === 0 ? {...(value as object), pvs: {'pv-1': {name: 'pv-1', cost: 1}}, z: {name: 'z', q: 1}} : value,
        ]),
    ],
    [
      'objects in arrays whose first member is "name" (the marker\'s tail without its key)',
      day
        .slice(0, 40)
        .map(([key, value], i) => [
          key,
          i % 2 === 0 ? {...(value as object), list: [{name: 'a'}, {name: '":{"name":"'}], 'x{"name":"y': 1} : value,
        ]),
    ],
    [
      'entries that are not allocations, and ones that do not start with "name"',
      [
        ...day.slice(0, 10),
        ['empty', {}],
        ['null', null],
        ['late-name', {totalCost: 1, name: 'late-name'}],
        ...day.slice(10, 20),
      ],
    ],
  ]

  for (const [what, entries] of tricky) {
    it(`gives the splitter's entries and rows for ${what}, however it is cut`, async () => {
      const body = encoder.encode(`{"code":200,"data":[${setOf(entries)},{},null,${setOf(entries.slice(-3))}]}`)
      const expected = sequential(body, builder)
      for (const [blockBytes, chunk] of [
        [64, 7],
        [97, 1000],
        [1000, 333],
        [4096, 4096],
        [1 << 18, 65_536],
      ] as const) {
        const {seen} = await parallel(poolOf(1, blockBytes), body, chunk, builder)
        assert.deepEqual(seen, expected, `blocks of ${blockBytes}, chunks of ${chunk}`)
      }
    })
  }

  it('parses most entries of a Kubecost-shaped body off the main thread, with two threads too', async () => {
    const body = encoder.encode(`{"code":200,"data":[${setOf(day)}]}`)
    const expected = sequential(body, builder)
    for (const threads of [1, 2]) {
      const {seen, reader} = await parallel(poolOf(threads, 16_384), body, 1500, builder)
      assert.deepEqual(seen, expected)
      // every entry but those cut by a block's edge comes from a run a thread (or the main thread) proved
      assert.ok(reader.quickEntries > day.length * 0.9, `${reader.quickEntries} of ${day.length} by marker`)
    }
  })

  it('takes no run whose start the envelope does not vouch for', () => {
    // A nested {"name": object makes the thread guess a start inside an entry; such a run must be refused.
    const nested = setOf([
      ['a', {name: 'a', inner: {name: 'n1', v: 1}, more: {name: 'n2', v: 2}}],
      ['b', {name: 'b'}],
      ['c', {name: 'c'}],
    ])
    const text = `{"data":[${nested}]}`
    const bytes = encoder.encode(text)
    // a block that starts inside "a", before its nested objects
    const cut = text.indexOf('"inner"') - 3
    const keys: string[] = []
    const runs = markedRuns(bytes.subarray(cut), key => keys.push(key))
    // the thread's first run starts at the nested marker, and "proves" a value that is no entry
    assert.equal(runs[0]?.start, 3)
    assert.deepEqual(keys.slice(0, 1), ['inner'])
    const splitter = new EnvelopeSplitter()
    splitter.push(bytes.subarray(0, cut + 3))
    assert.equal(splitter.atEntryStart(), false)
    assert.throws(() => splitter.skip(new Uint8Array(1), 1, 'x'), /outside a set/)
  })

  it('raises a row that cannot be built (a number out of range) as building it here would', async () => {
    // JSON.stringify cannot write a number out of range: a placeholder is replaced by one.
    const entries = [...day.slice(0, 30), ['bad', allocation('bad', {cpuCost: -42.5})] as const, ...day.slice(30, 60)]
    const body = encoder.encode(`{"code":200,"data":[${setOf(entries)}]}`.replace('-42.5', '1e309'))
    let message = ''
    try {
      builder.build('bad', allocation('bad', {cpuCost: Infinity}))
    } catch (error) {
      message = (error as Error).message
    }

    assert.match(message, /cpuCost = Infinity/)
    await assert.rejects(parallel(poolOf(1, 512), body, 700, builder), (error: Error) => {
      assert.equal(error.name, 'KubecostResponseError')
      assert.equal(error.message, message)
      return true
    })
  })

  it('raises an allocation of another day on a thread exactly as building it here does', async () => {
    const other = allocation('other-day', {window: {start: '2026-04-30T00:00:00Z', end: '2026-05-01T00:00:00Z'}})
    const entries = [...day.slice(0, 30), ['other-day', other] as const, ...day.slice(30, 60)]
    const body = encoder.encode(`{"code":200,"data":[${setOf(entries)}]}`)
    assert.throws(() => sequential(body, builder), /allocation "other-day" with the window 2026-04-30T00:00:00Z/)
    let message = ''
    try {
      sequential(body, builder)
    } catch (error) {
      message = (error as Error).message
    }

    for (const threads of [1, 2]) {
      await assert.rejects(parallel(poolOf(threads, 512), body, 700, builder), (error: Error) => {
        assert.equal(error.name, 'KubecostResponseError')
        assert.equal(error.message, message)
        return true
      })
    }
  })

  it('fails an oversized entry and an oversized body with the splitter’s errors', async () => {
    const big = allocation('big', {padding: 'p'.repeat(3000)})
    const body = encoder.encode(
      `{"code":200,"data":[${setOf([...day.slice(0, 5), ['big', big], ...day.slice(5, 9)])}]}`,
    )
    for (const limits of [{maxEntryBytes: 2500}, {maxBodyBytes: body.length - 10}]) {
      let expected: EnvelopeError | undefined
      try {
        sequential(body, builder, limits)
      } catch (error) {
        expected = error as EnvelopeError
      }

      assert.ok(expected instanceof EnvelopeError)
      await assert.rejects(parallel(poolOf(1, 1024), body, 900, builder, limits), (error: unknown) => {
        assert.ok(error instanceof EnvelopeError)
        assert.equal(error.message, expected.message)
        assert.deepEqual(error.size, expected.size)
        return true
      })
    }
  })

  it('reports a body that is not an envelope as the splitter does', async () => {
    for (const text of ['<html>504 Gateway Time-out</html>', '{"code":200,"data":[{"a":{"name":"a"},"b":', '']) {
      const body = encoder.encode(text)
      let expected: EnvelopeError | undefined
      try {
        sequential(body, builder)
      } catch (error) {
        expected = error as EnvelopeError
      }

      assert.ok(expected instanceof EnvelopeError, text)
      await assert.rejects(parallel(poolOf(1, 16), body, 5, builder), (error: unknown) => {
        assert.ok(error instanceof EnvelopeError)
        assert.equal(error.problem, expected.problem)
        assert.equal(error.message, expected.message)
        return true
      })
    }
  })
})

describe('ParsePool: a thread that stops', () => {
  let pool: ParsePool
  before(() => {
    pool = new ParsePool(1, {blockBytes: 256})
    pool.context({...context, nodes: nodeIndex().data()}, new RowBuilder({...context, nodes: nodeIndex()}))
  })
  after(async () => {
    await pool.close()
  })

  it('fails the body being read with a ParseThreadError naming the cause, and every later use', async () => {
    const day = Array.from({length: 200}, (_, i) => [`k${i}`, allocation(`a${i}`)] as const)
    const body = encoder.encode(`{"code":200,"data":[${setOf(day)}]}`)
    const reader = pool.reader({})
    await reader.push(body.subarray(0, 300))
    // what an out-of-memory kill of the thread looks like from here
    await (pool as unknown as {workers: Array<{terminate(): Promise<number>}>}).workers[0]?.terminate()
    const failure = async () => {
      for (const piece of chunksOf(body.subarray(300), 256)) await reader.push(piece)
      await reader.end()
    }

    await assert.rejects(failure(), (error: unknown) => {
      assert.ok(error instanceof ParseThreadError)
      assert.equal(error.exitCode, 1)
      assert.match(error.message, /A parse thread failed: it stopped \(exit code \d+\)/)
      assert.match(error.suggestions.join(' '), /\{\{setting:parseThreads\}\} 0/)
      return true
    })
    assert.ok(pool.failed instanceof ParseThreadError)
    await assert.rejects(async () => pool.reader({}).push(body), ParseThreadError)
  })
})

describe('ParsePool: closing', () => {
  it('holds the process open until its threads have stopped, even when an answer is read after close() began', async () => {
    // In a process of its own, where nothing else holds the event loop open, as at the end of an
    // export: a pool that let go of its threads there would end the process with exit code 13, its
    // close() unsettled. Eight pools, one after another: before the pool held its threads while they
    // stop, a single one did so in 8 of 10 processes, and eight in 40 of 40.
    const fixture = fileURLToPath(new URL('../fixtures/close-pool-race.ts', import.meta.url))
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, '8'], {stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const [code] = (await once(child, 'close')) as [number | null]
    assert.equal(code, 0, stderr)
    assert.equal(stdout, 'closed 8 pools\n')
  })
})
