import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {
  type Entry,
  EnvelopeError,
  type EnvelopeProblem,
  EnvelopeSplitter,
} from '../../src/lib/kubecost/envelope-splitter.js'

const encoder = new TextEncoder()

interface Result {
  entries: Entry[]
  meta: Record<string, unknown>
  sets: number
  bytes: number
}

/** Feeds the body in the given chunks, then ends it. */
function feed(chunks: readonly Uint8Array[]): Result {
  const splitter = new EnvelopeSplitter()
  const entries: Entry[] = []
  for (const chunk of chunks) entries.push(...splitter.push(chunk))
  splitter.end()
  return {entries, meta: {...splitter.meta}, sets: splitter.sets, bytes: splitter.bytes}
}

/** The body's bytes cut at `cuts` (sorted byte offsets). */
function cutAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const chunks: Uint8Array[] = []
  let from = 0
  for (const cut of cuts) {
    chunks.push(bytes.subarray(from, cut))
    from = cut
  }

  chunks.push(bytes.subarray(from))
  return chunks
}

/**
 * The body fed whole, in two pieces split at every byte boundary, one byte at a time, and in
 * three pieces at a spread of boundary pairs must all give the same result.
 */
function assertSplitInvariant(body: string): Result {
  const bytes = encoder.encode(body)
  const expected = feed([bytes])
  for (let cut = 0; cut <= bytes.length; cut++) {
    assert.deepEqual(feed(cutAt(bytes, [cut])), expected, `split at byte ${cut} of ${bytes.length}`)
  }

  const oneByOne: Uint8Array[] = []
  for (let i = 0; i < bytes.length; i++) oneByOne.push(bytes.slice(i, i + 1))
  assert.deepEqual(feed(oneByOne), expected, 'one byte at a time')

  const step = Math.max(1, Math.floor(bytes.length / 40))
  for (let a = 0; a <= bytes.length; a += step) {
    for (let b = a; b <= bytes.length; b += step + 1) {
      assert.deepEqual(feed(cutAt(bytes, [a, b])), expected, `split at bytes ${a} and ${b}`)
    }
  }

  // Copies, not views of one buffer, as a network stream hands them out.
  assert.deepEqual(feed(cutAt(bytes, [3, 7, 11]).map(c => c.slice())), expected, 'copied chunks')
  return expected
}

function assertEnvelopeError(fn: () => unknown, problem: EnvelopeProblem): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof EnvelopeError, `expected EnvelopeError, got ${String(error)}`)
    assert.equal(error.name, 'EnvelopeError')
    assert.equal(error.problem, problem, error.message)
    return true
  })
}

/** Feeds the body whole (and one byte at a time) and expects `problem` from push() or end(). */
function assertBodyFails(body: string, problem: EnvelopeProblem): void {
  const bytes = encoder.encode(body)
  assertEnvelopeError(() => feed([bytes]), problem)
  const oneByOne: Uint8Array[] = []
  for (let i = 0; i < bytes.length; i++) oneByOne.push(bytes.slice(i, i + 1))
  assertEnvelopeError(() => feed(oneByOne), problem)
}

function allocation(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    properties: {
      cluster: 'prod',
      node: 'ip-10-0-1-23.ec2.internal',
      namespace: 'payments',
      controllerKind: 'deployment',
      controller: 'api',
      pod: 'api-7d9f8b6c5-x2x4z',
      container: 'api',
      providerID: 'aws:///us-east-1a/i-0123456789abcdef0',
      labels: {app: 'api', app_kubernetes_io_name: 'payments-api', 'odd "quoted" key': 'v\\w', emoji: 'café ☕ 𝄞'},
      annotations: {},
    },
    window: {start: '2024-05-01T00:00:00Z', end: '2024-05-02T00:00:00Z'},
    start: '2024-05-01T00:00:00Z',
    end: '2024-05-02T00:00:00Z',
    minutes: 1440,
    cpuCores: 0.5,
    cpuCoreRequestAverage: 0.25,
    cpuCoreUsageAverage: 0.0123456789,
    cpuCost: 1.2e-3,
    cpuCostAdjustment: -0.5,
    cpuEfficiency: 1.75,
    gpuCount: null,
    ramBytes: 1073741824,
    pvs: null,
    rawAllocationOnly: {cpuCoreUsageMax: 0.9, ramByteUsageMax: 123},
    lbAllocations: [{service: 'payments/api', cost: 0.1, private: false}],
    totalCost: 3.14159,
    totalEfficiency: 0,
    ...extra,
  }
}

describe('EnvelopeSplitter: well-formed envelopes', () => {
  it('streams every entry of every set with its set index and key', () => {
    const sets = [
      {
        'prod/ip-10-0-1-23/payments/deployment/api/api-7d9f8b6c5-x2x4z/api': allocation(
          'prod/ip-10-0-1-23/payments/deployment/api/api-7d9f8b6c5-x2x4z/api',
        ),
        __idle__: allocation('__idle__', {properties: {cluster: 'prod'}, totalCost: -0.25}),
      },
      {__unmounted__: allocation('__unmounted__', {pvCost: 2})},
    ]
    const body = JSON.stringify({code: 200, data: sets})
    const result = assertSplitInvariant(body)
    assert.deepEqual(result.entries, [
      {
        set: 0,
        key: 'prod/ip-10-0-1-23/payments/deployment/api/api-7d9f8b6c5-x2x4z/api',
        value: sets[0]?.['prod/ip-10-0-1-23/payments/deployment/api/api-7d9f8b6c5-x2x4z/api'],
      },
      {set: 0, key: '__idle__', value: sets[0]?.__idle__},
      {set: 1, key: '__unmounted__', value: sets[1]?.__unmounted__},
    ])
    assert.deepEqual(result.meta, {code: 200})
    assert.equal(result.sets, 2)
    assert.equal(result.bytes, encoder.encode(body).length)
  })

  it('keeps escaped quotes, backslashes, control escapes and unicode in keys and values', () => {
    const tricky = {
      'key with "quotes" and \\backslash\\': {name: 'a "b" \\c\\ \n\t\u0001 \u2028', nested: {'}': ']', '{': '['}},
      'ends with backslash \\': 'value ending with \\',
      '\\"': '\\"',
      'ünïcödé ключ 键 🚀': {value: 'mañana — 日本語 — 🤖🚀 — \ud83d\ude00', list: ['€', '𝄞', ['深', {'🔑': '🗝'}]]},
      'escaped \u00e9 and "': '}]{[,:"',
    }
    const body = JSON.stringify({code: 200, data: [tricky]})
    const result = assertSplitInvariant(body)
    assert.deepEqual(
      result.entries,
      Object.entries(tricky).map(([key, value]) => ({set: 0, key, value})),
    )
  })

  it('keeps JSON that spells unicode as \\u escapes', () => {
    const body = '{"code":200,"data":[{"caf\\u00e9 \\"x\\"":{"name":"\\ud83d\\ude00 \\\\ \\/"}}]}'
    const result = assertSplitInvariant(body)
    assert.deepEqual(result.entries, [{set: 0, key: 'café "x"', value: {name: '😀 \\ /'}}])
  })

  it('hands out scalar entries, null and arrays as they are', () => {
    const set = {
      a: 1,
      b: -2.5e-7,
      c: null,
      d: true,
      e: false,
      f: 'str',
      g: [],
      h: {},
      i: [1, [2, [3, {x: null}]]],
      j: 0,
      k: 1e300,
    }
    const result = assertSplitInvariant(JSON.stringify({code: 200, data: [set]}))
    assert.deepEqual(
      result.entries,
      Object.entries(set).map(([key, value]) => ({set: 0, key, value})),
    )
  })

  it('reads a pretty-printed envelope with all kinds of whitespace', () => {
    const data = [{one: allocation('one')}, {}, {two: allocation('two', {totalCost: null})}]
    const body = `\r\n\t ${JSON.stringify({code: 200, data}, null, '\t').replaceAll('\n', '\r\n')} \n\n`
    const result = assertSplitInvariant(body)
    assert.deepEqual(result.entries, [
      {set: 0, key: 'one', value: data[0]?.one},
      {set: 2, key: 'two', value: data[2]?.two},
    ])
    assert.equal(result.sets, 3)
  })

  it('counts {} sets as empty steps', () => {
    const result = assertSplitInvariant(
      JSON.stringify({code: 200, data: [{}, {a: {name: 'a'}}, {}, {}, {b: {name: 'b'}}]}),
    )
    assert.deepEqual(result.entries, [
      {set: 1, key: 'a', value: {name: 'a'}},
      {set: 4, key: 'b', value: {name: 'b'}},
    ])
    assert.equal(result.sets, 5)
  })

  it('counts null sets as empty steps', () => {
    const result = assertSplitInvariant(JSON.stringify({code: 200, data: [null, {a: {name: 'a'}}, null]}))
    assert.deepEqual(result.entries, [{set: 1, key: 'a', value: {name: 'a'}}])
    assert.equal(result.sets, 3)
    const spaced = assertSplitInvariant('{"code": 200, "data": [ null , { "a" : 1 } , null ] }')
    assert.deepEqual(spaced.entries, [{set: 1, key: 'a', value: 1}])
    assert.equal(spaced.sets, 3)
  })

  it('accepts an empty data list', () => {
    const result = assertSplitInvariant(JSON.stringify({code: 200, data: []}))
    assert.deepEqual(result.entries, [])
    assert.equal(result.sets, 0)
    assert.deepEqual(result.meta, {code: 200})
    const spaced = assertSplitInvariant('{ "code" : 200 , "data" : [ ] }')
    assert.deepEqual(spaced.entries, [])
    assert.equal(spaced.sets, 0)
  })

  it('accepts data as a single object of entries (OpenCost assets shape) as set 0', () => {
    const assets = {
      'AWS/111122223333/__undefined__/Compute/prod/Node/Kubernetes/aws:///us-east-1a/i-0abc/ip-10-0-1-23': {
        type: 'Node',
        properties: {providerID: 'i-0abc'},
        labels: {label_app: 'x'},
        nodeType: 'm5.large',
      },
      'AWS/111122223333/__undefined__/Storage/prod/Disk/Kubernetes/vol-1/vol-1': {type: 'Disk'},
    }
    const result = assertSplitInvariant(JSON.stringify({code: 200, status: 'success', data: assets, message: 'ok'}))
    assert.deepEqual(
      result.entries,
      Object.entries(assets).map(([key, value]) => ({set: 0, key, value})),
    )
    assert.equal(result.sets, 1)
    assert.deepEqual(result.meta, {code: 200, status: 'success', message: 'ok'})
  })

  it('accepts data as an empty object', () => {
    const result = assertSplitInvariant('{"code":200,"data":{}}')
    assert.deepEqual(result.entries, [])
    assert.equal(result.sets, 1)
  })

  it('accepts data: null with no sets and no entries', () => {
    const result = assertSplitInvariant(JSON.stringify({code: 200, data: null, message: 'no data'}))
    assert.deepEqual(result.entries, [])
    assert.equal(result.sets, 0)
    assert.equal(result.meta.code, 200)
    assert.equal(result.meta.message, 'no data')
    assert.equal(result.meta.data, null)
  })

  it('collects top-level fields before and after data into meta', () => {
    const body = JSON.stringify({
      code: 200,
      status: 'success',
      warning: 'Some "quoted" warning \\ with ☕',
      data: [{a: {name: 'a'}}],
      message: '',
      extra: {nested: [1, {x: null}], ok: true},
      count: -1.5,
      flag: false,
      nothing: null,
    })
    const result = assertSplitInvariant(body)
    assert.deepEqual(result.entries, [{set: 0, key: 'a', value: {name: 'a'}}])
    assert.deepEqual(result.meta, {
      code: 200,
      status: 'success',
      warning: 'Some "quoted" warning \\ with ☕',
      message: '',
      extra: {nested: [1, {x: null}], ok: true},
      count: -1.5,
      flag: false,
      nothing: null,
    })
  })

  it('accepts an envelope without data, and an empty object', () => {
    const error = assertSplitInvariant(JSON.stringify({code: 500, message: 'boom'}))
    assert.deepEqual(error.entries, [])
    assert.deepEqual(error.meta, {code: 500, message: 'boom'})
    const empty = assertSplitInvariant('{}')
    assert.deepEqual(empty.entries, [])
    assert.deepEqual(empty.meta, {})
    assert.equal(empty.sets, 0)
  })

  it('skips a UTF-8 byte order mark', () => {
    const result = assertSplitInvariant(`\ufeff${JSON.stringify({code: 200, data: [{a: 1}]})}`)
    assert.deepEqual(result.entries, [{set: 0, key: 'a', value: 1}])
    assert.deepEqual(result.meta, {code: 200})
  })

  it('gives the same entries for a large realistic day fed in random chunk sizes', () => {
    const set: Record<string, unknown> = {}
    for (let i = 0; i < 200; i++)
      set[`prod/node-${i % 7}/ns-${i % 5}/deployment/app-${i}/pod-${i}/c-☕-${i}`] = allocation(`alloc-${i} "q" \\`, {
        totalCost: i / 3,
      })
    const body = JSON.stringify({code: 200, data: [set, {}, set]})
    const bytes = encoder.encode(body)
    const expected = feed([bytes])
    assert.equal(expected.entries.length, 400)
    let seed = 12345
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed / 2147483648
    }

    for (let round = 0; round < 20; round++) {
      const cuts: number[] = []
      for (let at = 0; at < bytes.length; at += 1 + Math.floor(random() * 300)) cuts.push(at)
      assert.deepEqual(feed(cutAt(bytes, cuts)), expected, `round ${round}`)
    }
  })

  it('returns entries from push() as soon as they are complete', () => {
    const splitter = new EnvelopeSplitter()
    assert.deepEqual(splitter.push(encoder.encode('{"code":200,"data":[{"a":{"x":1},"b":{"x"')), [
      {set: 0, key: 'a', value: {x: 1}},
    ])
    assert.deepEqual(splitter.push(encoder.encode(':2}}')), [{set: 0, key: 'b', value: {x: 2}}])
    assert.deepEqual(splitter.push(encoder.encode(']}')), [])
    splitter.end()
    assert.equal(splitter.head, '{"code":200,"data":[{"a":{"x":1},"b":{"x":2}}]}')
  })

  it('keeps the first 200 characters of the body in head', () => {
    const splitter = new EnvelopeSplitter()
    const body = JSON.stringify({code: 200, message: 'x'.repeat(500), data: []})
    splitter.push(encoder.encode(body.slice(0, 150)))
    splitter.push(encoder.encode(body.slice(150)))
    splitter.end()
    assert.equal(splitter.head, body.slice(0, 200))
  })
})

describe('EnvelopeSplitter: bodies that are not the expected JSON', () => {
  it('rejects an HTML error page as not-json', () => {
    assertBodyFails(
      '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>',
      'not-json',
    )
  })

  it('rejects a plain-text error as not-json', () => {
    assertBodyFails('Bad Request: invalid window', 'not-json')
  })

  it('rejects a JSON value that is not an object as not-json', () => {
    assertBodyFails('[{"a":1}]', 'not-json')
    assertBodyFails('"ok"', 'not-json')
    assertBodyFails('null', 'not-json')
  })

  it('rejects an empty body as not-json from end()', () => {
    const splitter = new EnvelopeSplitter()
    assertEnvelopeError(() => splitter.end(), 'not-json')
    const withEmptyChunk = new EnvelopeSplitter()
    assert.deepEqual(withEmptyChunk.push(new Uint8Array(0)), [])
    assertEnvelopeError(() => withEmptyChunk.end(), 'not-json')
  })

  it('rejects a whitespace-only body as not-json', () => {
    assertBodyFails(' \n\t\r\n ', 'not-json')
  })

  it('reports a body cut short as truncated from end(), wherever it is cut', () => {
    const body = JSON.stringify({code: 200, data: [{'a "b"': allocation('a'), c: null}, null, {}], message: 'ok'})
    const bytes = encoder.encode(body)
    for (let cut = 1; cut < bytes.length; cut++) {
      const splitter = new EnvelopeSplitter()
      splitter.push(bytes.subarray(0, cut))
      assert.throws(
        () => splitter.end(),
        (error: unknown) =>
          error instanceof EnvelopeError &&
          error.problem === 'truncated' &&
          error.message.includes(`after ${cut} bytes`),
        `cut at ${cut}`,
      )
    }
  })

  it('rejects garbage after the end as unexpected-shape', () => {
    assertBodyFails('{"code":200,"data":[]}x', 'unexpected-shape')
    assertBodyFails('{"code":200,"data":[]} {"code":200}', 'unexpected-shape')
    assertBodyFails('{"code":200,"data":[]}<html>', 'unexpected-shape')
  })

  it('accepts trailing whitespace after the end', () => {
    assert.deepEqual(assertSplitInvariant('{"code":200,"data":[]}\n \r\n\t').entries, [])
  })

  it('rejects data that is a list of something other than sets', () => {
    assertBodyFails('{"code":200,"data":[1,2]}', 'unexpected-shape')
    assertBodyFails('{"code":200,"data":["a"]}', 'unexpected-shape')
    assertBodyFails('{"code":200,"data":[[{"a":1}]]}', 'unexpected-shape')
  })

  it('rejects structural errors in the envelope', () => {
    assertBodyFails('{code:200}', 'unexpected-shape')
    assertBodyFails('{"code" 200}', 'unexpected-shape')
    assertBodyFails('{"code":200 "data":[]}', 'unexpected-shape')
    assertBodyFails('{"code":200,"data":[{"a" 1}]}', 'unexpected-shape')
    assertBodyFails('{"code":200,"data":[{a:1}]}', 'unexpected-shape')
    assertBodyFails('{"code":200,"data":[{"a":1} {"b":2}]}', 'unexpected-shape')
    assertBodyFails('{"code":200,"data":[{"a":1 "b":2}]}', 'unexpected-shape')
  })

  it('rejects an entry that is not valid JSON', () => {
    assertBodyFails('{"code":200,"data":[{"a":{"x":tru}}]}', 'unexpected-shape')
    assertBodyFails('{"code":200,"data":[{"a":NaN}]}', 'unexpected-shape')
    assertBodyFails('{"code":nope,"data":[]}', 'unexpected-shape')
  })
})

describe('EnvelopeSplitter null sets', () => {
  it('rejects a bare word other than null where a set belongs', () => {
    const splitter = new EnvelopeSplitter()
    assert.throws(
      () => splitter.push(new TextEncoder().encode('{"data":[nope]}')),
      (error: unknown) => error instanceof EnvelopeError && error.problem === 'unexpected-shape',
    )
  })
})

/** `{"code":200,"data":[{"big":{"name":"big","padding":"xxx…"}}]}` with an entry of exactly `entryBytes` bytes. */
function bodyWithEntryOf(entryBytes: number): {prefix: string; entry: string; suffix: string} {
  const shell = '{"name":"big","padding":""}'
  return {
    prefix: '{"code":200,"data":[{"big":',
    entry: `{"name":"big","padding":"${'x'.repeat(entryBytes - shell.length)}"}`,
    suffix: '}]}',
  }
}

function feedInChunks(splitter: EnvelopeSplitter, body: Uint8Array, chunkBytes: number): Entry[] {
  const entries: Entry[] = []
  for (let at = 0; at < body.length; at += chunkBytes)
    entries.push(...splitter.push(body.subarray(at, at + chunkBytes)))
  splitter.end()
  return entries
}

describe('EnvelopeSplitter: large entries and limits', () => {
  it('splits a 60 MB entry arriving in 64 KB chunks in linear time and bounded memory', () => {
    const {prefix, entry, suffix} = bodyWithEntryOf(60 * 1024 * 1024)
    const body = encoder.encode(prefix + entry + suffix)
    const rssBefore = process.memoryUsage().rss
    // CPU time, which a busy machine does not stretch as it does the wall clock (measured: about 1 s).
    const started = process.cpuUsage()
    const entries = feedInChunks(new EnvelopeSplitter(), body, 64 * 1024)
    const used = process.cpuUsage(started)
    const seconds = (used.user + used.system) / 1e6
    const grownMb = (process.memoryUsage().rss - rssBefore) / 1024 / 1024
    assert.equal(entries.length, 1)
    assert.equal((entries[0]?.value as {padding: string}).padding.length, entry.length - 27)
    // Re-copying the unfinished entry with each chunk moves ~29 GB here (tens of seconds); joining once moves 60 MB.
    assert.ok(seconds < 6, `took ${seconds.toFixed(1)} s of CPU`)
    assert.ok(grownMb < 400, `RSS grew by ${grownMb.toFixed(0)} MB`)
  })

  it('accepts an entry of exactly the cap and rejects one byte more, whole or one byte at a time', () => {
    const max = 300
    for (const [size, ok] of [
      [max, true],
      [max + 1, false],
    ] as const) {
      const {prefix, entry, suffix} = bodyWithEntryOf(size)
      const bytes = encoder.encode(prefix + entry + suffix)
      for (const chunkBytes of [bytes.length, 7, 1]) {
        const run = () => feedInChunks(new EnvelopeSplitter({maxEntryBytes: max}), bytes, chunkBytes)
        if (ok) {
          assert.equal(run().length, 1)
          continue
        }

        assert.throws(
          run,
          (error: unknown) => {
            assert.ok(error instanceof EnvelopeError)
            assert.equal(error.problem, 'too-large')
            assert.deepEqual(error.size, {
              limit: 'entry',
              maxBytes: max,
              offset: prefix.length,
              key: 'big',
              what: 'entry',
            })
            assert.match(error.message, new RegExp(`the entry at byte ${prefix.length} is larger than 300 bytes`))
            return true
          },
          `chunks of ${chunkBytes}`,
        )
      }
    }
  })

  it('stops an oversized entry before it is complete, holding no more than the cap and one chunk', () => {
    const splitter = new EnvelopeSplitter({maxEntryBytes: 1000})
    splitter.push(encoder.encode('{"code":200,"data":[{"k":"'))
    assert.throws(
      () => {
        for (let i = 0; i < 100; i++) splitter.push(encoder.encode('y'.repeat(100)))
      },
      (error: unknown) => error instanceof EnvelopeError && error.problem === 'too-large' && error.size?.offset === 25,
    )
    assert.ok(splitter.bytes <= 25 + 1000 + 100, `read ${splitter.bytes} bytes`)
  })

  it('applies the cap to an envelope field and to a key as well', () => {
    assert.throws(
      () =>
        feedInChunks(
          new EnvelopeSplitter({maxEntryBytes: 50}),
          encoder.encode(`{"message":"${'m'.repeat(60)}","data":[]}`),
          16,
        ),
      (error: unknown) =>
        error instanceof EnvelopeError && error.size?.what === 'envelope field "message"' && error.size.offset === 11,
    )
    assert.throws(
      () =>
        feedInChunks(
          new EnvelopeSplitter({maxEntryBytes: 50}),
          encoder.encode(`{"data":[{"${'k'.repeat(60)}":1}]}`),
          16,
        ),
      (error: unknown) => error instanceof EnvelopeError && error.size?.what === 'key' && error.size.key === undefined,
    )
  })

  it('rejects a body larger than its cap as soon as it is', () => {
    const splitter = new EnvelopeSplitter({maxBodyBytes: 100})
    splitter.push(encoder.encode('{"code":200,"data":[{'))
    assert.throws(
      () => {
        for (let i = 0; i < 10; i++) splitter.push(encoder.encode('"a":{"x":1},'.repeat(2)))
      },
      (error: unknown) => {
        assert.ok(error instanceof EnvelopeError)
        assert.equal(error.problem, 'too-large')
        assert.deepEqual(error.size, {limit: 'body', maxBytes: 100, offset: 0, what: 'body'})
        return true
      },
    )
    assert.ok(splitter.bytes <= 100 + 24)
  })
})

describe('EnvelopeSplitter: messages never quote the body', () => {
  it('reports invalid JSON in an entry by position, without the source V8 quotes', () => {
    // V8's own message would be `Unexpected token '\n', "{"x":t\n2026-…" is not valid JSON`.
    const forged = '{"code":200,"data":[{"a":{"x":t\n2026-03-05T10:30:00.000Z ERROR kubecost-s3-exporter: pwned}}]}'
    assert.throws(
      () => feed([encoder.encode(forged)]),
      (error: unknown) => {
        assert.ok(error instanceof EnvelopeError)
        assert.equal(error.problem, 'unexpected-shape')
        assert.match(error.message, /^invalid JSON near byte \d+/)
        assert.ok(!error.message.includes('pwned'), error.message)
        assert.ok(!error.message.includes('\n'), error.message)
        return true
      },
    )
  })

  it('escapes a control character where a key or a comma was expected', () => {
    for (const body of ['{"data":[{\u001b', '{"code":200 \u0007}']) {
      assert.throws(
        () => feed([encoder.encode(body)]),
        (error: unknown) =>
          error instanceof EnvelopeError &&
          /\\x(1b|07)/.test(error.message) &&
          // eslint-disable-next-line no-control-regex
          !/[\u0000-\u001f]/.test(error.message),
      )
    }
  })
})

describe('EnvelopeSplitter: entries found by their marker', () => {
  /** A set's entries as Kubecost writes them: `"<key>":{"name":...}` with nothing in between. */
  const setOf = (entries: ReadonlyArray<readonly [string, unknown]>) =>
    `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`).join(',')}}`

  /** The entries `JSON.parse` of the whole body gives: the oracle the splitter must match. */
  function parsedEntries(body: string): Entry[] {
    const {data} = JSON.parse(body) as {data: Array<Record<string, unknown>>}
    return data.flatMap((set, index) => Object.entries(set).map(([key, value]) => ({set: index, key, value})))
  }

  function quickCount(body: string): number {
    const splitter = new EnvelopeSplitter()
    splitter.push(encoder.encode(body))
    splitter.end()
    return splitter.quickEntries
  }

  it('takes every entry but the last of a set without the byte scan, with the same result', () => {
    const entries = Array.from({length: 50}, (_, i) => [`prod/node-${i}/ns/pod-${i}/c`, allocation(`a-${i}`)] as const)
    const body = `{"code":200,"status":"success","data":[${setOf(entries)},${setOf(entries.slice(0, 3))}]}`
    assert.equal(quickCount(body), 49 + 2)
    assert.deepEqual(feed([encoder.encode(body)]).entries, parsedEntries(body))
    // Chunked, the entries that straddle a cut go through the scan; nothing else changes.
    const bytes = encoder.encode(body)
    for (const size of [1000, 4096, 777]) {
      const cuts = Array.from({length: Math.floor(bytes.length / size)}, (_, i) => (i + 1) * size)
      assert.deepEqual(feed(cutAt(bytes, cuts)), feed([bytes]), `chunks of ${size}`)
    }
  })

  const tricky: Array<[string, ReadonlyArray<readonly [string, unknown]>]> = [
    [
      'markers inside strings (as JSON writes them, escaped)',
      [
        ['a', {name: '":{"name":"', x: ',"', y: '\\":{\\"name\\":\\"'}],
        ['b', {name: 'b', properties: {labels: {app: '":{"name":"x', team: '","b":{"name":"'}}}],
        ['c', {name: 'c'}],
      ],
    ],
    [
      'escaped quotes and backslashes in keys',
      [
        ['k"1', {name: 'one'}],
        ['k\\2', {name: 'two'}],
        ['k\\"3', {name: 'three'}],
        ['\\', {name: 'four'}],
        ['"', {name: 'five'}],
        ['plain', {name: 'six'}],
      ],
    ],
    [
      'unicode: accents, CJK, emoji, a byte order mark, lone surrogates, control characters escaped',
      [
        ['café/日本/ポッド', {name: 'é', v: '𝄞☕'}],
        ['\ufeffbom-key', {name: '\ufeff'}],
        ['\ud800lone', {name: '\udc00'}],
        ['tab\tnewline\n', {name: '\u0000\u001f'}],
        ['🚀', {name: '🚀', labels: {'🚀': '":{"name":"🚀'}}],
        ['last', {name: 'last'}],
      ],
    ],
    [
      'a nested object whose first member is "name" (a marker inside an entry)',
      [
        ['x', {name: 'x', pvs: {'pv-1': {name: 'pv-1', cost: 1}, 'pv-2': {name: 'pv-2', cost: 2}}}],
        ['y', {name: 'y', pvs: {'pv-3': {name: 'pv-3'}}, sharedCostBreakdown: {s: {name: 's', totalCost: 0.5}}}],
        ['z', {name: 'z'}],
      ],
    ],
    [
      'entries that do not start with "name", between ones that do',
      [
        ['p', {name: 'p'}],
        ['q', {totalCost: 1, name: 'q'}],
        ['r', {}],
        ['s', null],
        ['t', {name: 't'}],
        ['u', {name: 'u'}],
      ],
    ],
  ]

  for (const [what, entries] of tricky) {
    it(`splits ${what} exactly as JSON.parse does, however the body is cut`, () => {
      const body = `{"code":200,"data":[${setOf(entries)},{},${setOf(entries.slice(-2))}]}`
      const whole = assertSplitInvariant(body)
      assert.deepEqual(whole.entries, parsedEntries(body))
    })
  }

  it('takes keys with escapes and non-ASCII text by the marker too', () => {
    const body = `{"data":[${setOf([
      ['k\\"3', {name: 'a'}],
      ['k\\2', {name: 'b'}],
      ['café/日本', {name: 'c'}],
      ['\ufeffbom', {name: 'd'}],
      ['\ud800', {name: 'e'}],
      ['end', {name: 'f'}],
    ])}]}`
    // the quoted key goes through the scan (a quote before the marker); the others do not
    assert.equal(quickCount(body), 4)
    assert.deepEqual(feed([encoder.encode(body)]).entries, parsedEntries(body))
  })

  it('takes entries of an all-ASCII chunk (decoded once, as a whole) and of other chunks alike', () => {
    // escapes written out, so the body is ASCII: the key and value escapes are JSON's to decode
    const ascii = String.raw`{"data":[{"k\\2":{"name":"b","v":"\u00e9"},"\ud800":{"name":"e"},"plain/key":{"name":"p","labels":{"a":"\":{\"name\":\""}},"end":{"name":"f"}}]}`
    assert.match(ascii, /^[\x20-\x7e]+$/)
    const notAscii = ascii.replace(String.raw`"v":"\u00e9"`, '"v":"é"')
    assert.notEqual(notAscii, ascii)
    for (const body of [ascii, notAscii]) {
      assert.equal(quickCount(body), 3, body)
      assert.deepEqual(feed([encoder.encode(body)]).entries, parsedEntries(body))
    }
  })

  it('leaves spaced-out JSON to the byte scan', () => {
    const body = `{"data": [{"a": {"name": "a"}, "b": {"name": "b"}, "c": {"name": "c"}}]}`
    assert.equal(quickCount(body), 0)
    assert.deepEqual(assertSplitInvariant(body).entries, parsedEntries(body))
  })

  it('reports invalid JSON in an entry at the same byte, with or without the marker search', () => {
    const prefix = '{"code":200,"data":[{"a":{"name":"a"},"b":{"name":"b","x":'
    const body = `${prefix}01},"c":{"name":"c"},"d":{"name":"d"}}]}`
    for (const chunks of [[encoder.encode(body)], cutAt(encoder.encode(body), [prefix.length + 5])]) {
      assert.throws(
        () => feed(chunks),
        (error: unknown) => {
          assert.ok(error instanceof EnvelopeError)
          assert.equal(error.problem, 'unexpected-shape')
          assert.match(error.message, new RegExp(`near byte ${prefix.length + 1} `))
          return true
        },
      )
    }
  })

  it('rejects a raw control character in a key, as the byte scan does', () => {
    assertBodyFails('{"data":[{"a\u0001b":{"name":"a"},"c":{"name":"c"}}]}', 'unexpected-shape')
  })

  it('applies the entry cap to entries found by the marker', () => {
    const big = {name: 'big', padding: 'p'.repeat(400)}
    const body = `{"code":200,"data":[${setOf([
      ['small', {name: 'small'}],
      ['big', big],
      ['after', {name: 'after'}],
    ])}]}`
    const prefix = body.slice(0, body.indexOf('{"name":"big"'))
    assert.throws(
      () => {
        const splitter = new EnvelopeSplitter({maxEntryBytes: 300})
        splitter.push(encoder.encode(body))
      },
      (error: unknown) => {
        assert.ok(error instanceof EnvelopeError)
        assert.deepEqual(error.size, {limit: 'entry', maxBytes: 300, offset: prefix.length, key: 'big', what: 'entry'})
        return true
      },
    )
    const splitter = new EnvelopeSplitter({maxEntryBytes: JSON.stringify(big).length})
    assert.equal(splitter.push(encoder.encode(body)).length, 3)
    assert.equal(splitter.quickEntries, 2)
  })
})

describe('EnvelopeSplitter: entries taken whole from elsewhere', () => {
  it('takes a run of entries at an entry start, counting its bytes, and reads on after it', () => {
    const body = '{"code":200,"data":[{"a":{"name":"a"},"b":{"name":"b"},"c":{"name":"c"}}]}'
    const bytes = encoder.encode(body)
    const start = body.indexOf('"a"')
    const end = body.indexOf(',"c"')
    const splitter = new EnvelopeSplitter()
    assert.deepEqual(splitter.push(bytes.subarray(0, start)), [])
    assert.equal(splitter.atEntryStart(), true)
    splitter.skip(bytes.subarray(start, end), 2, 'b')
    assert.equal(splitter.atEntryStart(), false)
    assert.deepEqual(splitter.push(bytes.subarray(end)), [{set: 0, key: 'c', value: {name: 'c'}}])
    assert.deepEqual(splitter.end(), [])
    assert.equal(splitter.bytes, bytes.length)
    assert.equal(splitter.head, body)
    assert.equal(splitter.quickEntries, 2)
    assert.equal(splitter.set, 0)
  })

  it('is no entry start inside an entry, between sets or outside data', () => {
    const body = '{"code":200,"data":[{"a":{"name":"a","x":1}},{"b":{"name":"b"}}]}'
    const bytes = encoder.encode(body)
    const at = (offset: number) => {
      const splitter = new EnvelopeSplitter()
      splitter.push(bytes.subarray(0, offset))
      return splitter.atEntryStart()
    }

    assert.equal(at(body.indexOf('"a"')), true)
    assert.equal(at(body.indexOf('"x"')), false)
    assert.equal(at(body.indexOf(',{"b"')), false)
    assert.equal(at(body.indexOf('"b"')), true)
    assert.equal(at(body.indexOf('"data"')), false)
  })

  it('says which buffers the bytes of an unfinished entry are kept in', () => {
    const body = encoder.encode('{"data":[{"a":{"name":"a","v":"0123456789"},"b":{"name":"b"}}]}')
    const first = body.slice(0, 20)
    const second = body.slice(20, 40)
    const rest = body.slice(40)
    const splitter = new EnvelopeSplitter()
    splitter.push(first)
    assert.equal(splitter.holds(first.buffer), true)
    splitter.push(second)
    assert.equal(splitter.holds(first.buffer), true)
    assert.equal(splitter.holds(second.buffer), true)
    assert.deepEqual(splitter.push(rest), [
      {set: 0, key: 'a', value: {name: 'a', v: '0123456789'}},
      {set: 0, key: 'b', value: {name: 'b'}},
    ])
    assert.equal(splitter.holds(first.buffer), false)
    assert.equal(splitter.holds(second.buffer), false)
  })
})
