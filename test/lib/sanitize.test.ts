import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {formatLine} from '../../src/lib/log.js'
import {escapeControl} from '../../src/lib/sanitize.js'

const NOW = new Date('2026-03-05T00:00:00Z')

describe('escapeControl', () => {
  it('escapes newlines, ESC, BEL, DEL, NEL and the Unicode separators, and keeps tabs and ordinary text', () => {
    assert.equal(escapeControl('a\nb\r\u001b[31mred\u0007\u007f\u0085\u2028\u2029'), 'a\\nb\\r\\x1b[31mred\\x07\\x7f\\x85\\u2028\\u2029')
    assert.equal(escapeControl('tab\there, ünïcødé ✓'), 'tab\there, ünïcødé ✓')
  })
})

describe('formatLine', () => {
  it('keeps a forged log line inside the message, in text', () => {
    const line = formatLine('text', 'error', 'bad body: {"x":\n2026-03-05T00:00:00.000Z ERROR pwned', {}, NOW)
    assert.equal(line.split('\n').length, 1)
    assert.equal(line, '2026-03-05T00:00:00.000Z ERROR kubecost-s3-exporter: bad body: {"x":\\n2026-03-05T00:00:00.000Z ERROR pwned')
  })

  it('writes JSON with no raw control character, which still parses to the original text', () => {
    const message = 'x\n\u001b\u0085\u2028y\u007f'
    const line = formatLine('json', 'warn', message, {day: '2026-03-02'}, NOW)
    assert.ok(![...line].some((c) => c < ' ' || (c >= '\u007f' && c <= '\u009f') || c === '\u2028' || c === '\u2029'), line)
    assert.equal((JSON.parse(line) as {message: string}).message, message)
  })
})
