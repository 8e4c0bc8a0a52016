import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import type {Day} from '../../src/lib/dates.js'
import type {Logger} from '../../src/lib/log.js'
import {RepeatedKeys} from '../../src/lib/repeated-keys.js'

function recording(): {logger: Logger; warnings: string[]} {
  const warnings: string[] = []
  return {logger: {debug() {}, info() {}, error() {}, warn: message => warnings.push(message)}, warnings}
}

const DAY = '2026-03-01' as Day

describe('RepeatedKeys', () => {
  it('drops a key seen before in the same set, and names it', () => {
    const {logger, warnings} = recording()
    const keys = new RepeatedKeys('Kubecost', DAY, logger)
    assert.equal(keys.first({set: 0, key: 'a'}), true)
    assert.equal(keys.first({set: 0, key: 'b'}), true)
    assert.equal(keys.first({set: 0, key: 'a'}), false)
    assert.deepEqual(warnings, ['Kubecost returned allocation "a" twice for 2026-03-01; counting it once'])
  })

  it('starts each set afresh: the same key in the next step is not a repeat', () => {
    const keys = new RepeatedKeys('Kubecost', DAY, recording().logger)
    assert.equal(keys.first({set: 0, key: 'a'}), true)
    assert.equal(keys.first({set: 1, key: 'a'}), true)
    assert.equal(keys.first({set: 1, key: 'a'}), false)
  })

  it('warns about the first ten repeats one by one, then sums up the rest once the answer is read', () => {
    const {logger, warnings} = recording()
    const keys = new RepeatedKeys('OpenCost', DAY, logger)
    keys.first({set: 0, key: 'a'})
    for (let i = 0; i < 25; i++) assert.equal(keys.first({set: 0, key: 'a'}), false)
    assert.equal(warnings.length, 10)
    keys.finish()
    assert.equal(warnings.length, 11)
    assert.equal(
      warnings[10],
      'OpenCost returned 25 allocation keys more than once for 2026-03-01; each was counted once',
    )
  })

  it('says nothing at the end when every repeat was warned about already', () => {
    const {logger, warnings} = recording()
    const keys = new RepeatedKeys('Kubecost', DAY, logger)
    keys.first({set: 0, key: 'a'})
    keys.first({set: 0, key: 'a'})
    keys.finish()
    assert.equal(warnings.length, 1)
  })

  it('forgets everything when the answer starts over (a retried download)', () => {
    const {logger, warnings} = recording()
    const keys = new RepeatedKeys('Kubecost', DAY, logger)
    keys.first({set: 0, key: 'a'})
    for (let i = 0; i < 11; i++) keys.first({set: 0, key: 'a'})
    keys.reset()
    assert.equal(keys.first({set: 0, key: 'a'}), true)
    warnings.length = 0
    keys.finish()
    assert.deepEqual(warnings, [], 'the repeats before the restart are not counted')
  })
})
