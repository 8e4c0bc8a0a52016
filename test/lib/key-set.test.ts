import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {KeySet} from '../../src/lib/key-set.js'

describe('KeySet', () => {
  it('answers like a Set<string> for many keys, through its growth and rehashing', () => {
    const keys = new KeySet()
    const reference = new Set<string>()
    // enough keys to grow the byte store (1 MiB), the key arrays and the table several times
    for (let i = 0; i < 60_000; i++) {
      const key = `prod/ip-10-0-${i % 251}-${i % 7}.ec2.internal/ns-${i % 13}/pod-${i}-${'x'.repeat(i % 40)}/app`
      assert.equal(keys.has(key), false)
      assert.equal(keys.add(key), true)
      reference.add(key)
    }

    assert.equal(keys.size, reference.size)
    for (const key of reference) {
      assert.equal(keys.has(key), true)
      assert.equal(keys.add(key), false, key)
    }

    assert.equal(keys.size, reference.size)
    assert.equal(keys.has('prod/ip-10-0-0-0.ec2.internal/ns-0/pod-0-/ap'), false)
  })

  it('tells apart keys that share a prefix, differ in one byte, or are empty', () => {
    const keys = new KeySet()
    for (const key of ['', 'a', 'ab', 'abc', 'abd', 'b', 'a\u0000', '\u0000a']) assert.equal(keys.add(key), true, key)
    for (const key of ['', 'a', 'ab', 'abc', 'abd', 'b', 'a\u0000', '\u0000a']) assert.equal(keys.add(key), false, key)
    assert.equal(keys.has('abe'), false)
    assert.equal(keys.size, 8)
  })

  it('keeps non-ASCII keys exact: accents, CJK, emoji (surrogate pairs), and lone surrogates', () => {
    const keys = new KeySet()
    // Lone surrogates all encode to the same UTF-8 replacement bytes: they must still be distinct keys.
    const distinct = [
      'café',
      'cafe\u0301',
      '日本/ポッド',
      '🚀pod',
      '\ud800',
      '\ud801',
      'x\udc00',
      '\ufffd',
      '\ud83d\ude80',
    ]
    for (const key of distinct) assert.equal(keys.add(key), true, JSON.stringify(key))
    assert.equal(keys.size, distinct.length)
    assert.equal(keys.add('🚀'), false, 'the emoji is the surrogate pair added above')
    assert.equal(keys.add('café'), false)
    for (const key of distinct) assert.equal(keys.has(key), true, JSON.stringify(key))
    assert.equal(keys.has('\ud802'), false)
  })

  it('forgets every key on clear, and works again after it', () => {
    const keys = new KeySet()
    for (let i = 0; i < 10_000; i++) keys.add(`key-${i}`)
    keys.add('\ud800')
    keys.clear()
    assert.equal(keys.size, 0)
    assert.equal(keys.has('key-1'), false)
    assert.equal(keys.has('\ud800'), false)
    assert.equal(keys.add('key-1'), true)
    assert.equal(keys.add('key-1'), false)
    assert.equal(keys.size, 1)
  })
})
