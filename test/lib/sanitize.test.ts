import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {formatLine} from '../../src/lib/log.js'
import {abbreviate, escapeControl, excerpt} from '../../src/lib/sanitize.js'

const NOW = new Date('2026-03-05T00:00:00Z')

describe('escapeControl', () => {
  it('spells C0, DEL, C1 and the Unicode line separators as escapes', () => {
    assert.equal(escapeControl('a\nb\rc\td'), 'a\\nb\\rc\\td')
    assert.equal(escapeControl('\u001b[31mred\u0007\u0000\u007f'), '\\x1b[31mred\\x07\\x00\\x7f')
    assert.equal(escapeControl('x\u0085y\u009bz\u2028\u2029'), 'x\\u0085y\\u009bz\\u2028\\u2029')
  })

  it('leaves printable text alone, non-ASCII included', () => {
    const text = 'Kubecost 2.x — coût, 料金, ☁️ "quoted" \\ back\\slash'
    assert.equal(escapeControl(text), text)
  })
})

describe('excerpt', () => {
  it('makes one escaped line, capped with an ellipsis', () => {
    assert.equal(excerpt('  one\n\ntwo\tthree  '), 'one two three')
    assert.equal(excerpt('\u001b]0;title\u0007 x', 100), '\\x1b]0;title\\x07 x')
    assert.equal(excerpt('abcdef', 3), 'abc…')
    assert.equal(excerpt('ab\u0085', 2), 'ab…')
  })

  it('never cuts a surrogate pair in half', () => {
    assert.equal(excerpt('a😀b', 2), 'a…')
  })
})

describe('abbreviate', () => {
  it('keeps text up to the limit whole, and cuts longer text saying how long it was', () => {
    assert.equal(abbreviate('abc', 3), 'abc')
    assert.equal(abbreviate('abcd', 3), 'abc… (4 characters)')
    const url = `http://kubecost:9090/model/allocation?filter=${'cluster%3A%22a%22%2C'.repeat(500)}`
    assert.equal(abbreviate(url, 60), `${url.slice(0, 60)}… (10,045 characters)`)
    assert.equal(abbreviate('a😀b', 2), 'a… (4 characters)')
  })
})

describe('formatLine', () => {
  it('keeps a forged log line inside the message, in text', () => {
    const line = formatLine('text', 'error', 'bad body: {"x":\n2026-03-05T00:00:00.000Z ERROR pwned', {}, NOW)
    assert.equal(line.split('\n').length, 1)
    assert.equal(
      line,
      '2026-03-05T00:00:00.000Z ERROR kubecost-s3-exporter: bad body: {"x":\\n2026-03-05T00:00:00.000Z ERROR pwned',
    )
  })

  it('writes JSON with no raw control character, which still parses to the original text', () => {
    const message = 'x\n\u001b\u0085\u2028y\u007f'
    const line = formatLine('json', 'warn', message, {day: '2026-03-02'}, NOW)
    assert.ok(
      !Array.from(line).some(c => c < ' ' || (c >= '\u007f' && c <= '\u009f') || c === '\u2028' || c === '\u2029'),
      line,
    )
    assert.equal((JSON.parse(line) as {message: string}).message, message)
  })
})
