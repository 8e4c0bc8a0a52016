import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {
  addDays,
  candidateDays,
  dayOf,
  dayStart,
  daysBetween,
  isDay,
  newestCollectableDay,
  rfc3339,
  windowParam,
} from '../../src/lib/dates.js'

describe('isDay', () => {
  it('accepts real calendar days', () => {
    for (const day of ['2024-05-01', '2024-02-29', '2000-02-29', '2025-12-31', '2026-01-01', '1999-09-09']) {
      assert.equal(isDay(day), true, day)
    }
  })

  it('rejects days that do not exist (no roll-over to the next month)', () => {
    for (const day of [
      '2025-02-30',
      '2025-02-29',
      '1900-02-29',
      '2025-04-31',
      '2025-06-31',
      '2025-13-01',
      '2025-00-10',
      '2025-01-00',
      '2025-01-32',
    ]) {
      assert.equal(isDay(day), false, day)
    }
  })

  it('rejects anything that is not exactly YYYY-MM-DD', () => {
    for (const value of [
      '',
      '2025-1-01',
      '2025-01-1',
      '25-01-01',
      '2025/01/01',
      '2025-01-01T00:00:00Z',
      ' 2025-01-01',
      '2025-01-01 ',
      '20250101',
      'yesterday',
      '+02025-01-01',
    ]) {
      assert.equal(isDay(value), false, JSON.stringify(value))
    }
  })
})

describe('day arithmetic', () => {
  it('dayOf takes the UTC calendar day, whatever the time of day', () => {
    assert.equal(dayOf(new Date('2024-05-01T00:00:00Z')), '2024-05-01')
    assert.equal(dayOf(new Date('2024-05-01T23:59:59.999Z')), '2024-05-01')
    assert.equal(dayOf(new Date('2024-05-01T23:30:00-02:00')), '2024-05-02')
  })

  it('dayStart is midnight UTC', () => {
    assert.equal(dayStart('2024-02-29').toISOString(), '2024-02-29T00:00:00.000Z')
  })

  it('addDays crosses month, year and leap-day boundaries', () => {
    assert.equal(addDays('2024-02-28', 1), '2024-02-29')
    assert.equal(addDays('2024-02-29', 1), '2024-03-01')
    assert.equal(addDays('2025-02-28', 1), '2025-03-01')
    assert.equal(addDays('2025-12-31', 1), '2026-01-01')
    assert.equal(addDays('2026-01-01', -1), '2025-12-31')
    assert.equal(addDays('2024-03-01', -1), '2024-02-29')
    assert.equal(addDays('2024-05-10', 0), '2024-05-10')
    assert.equal(addDays('2024-01-01', 366), '2025-01-01')
  })

  it('daysBetween is inclusive and oldest first', () => {
    assert.deepEqual(daysBetween('2024-02-27', '2024-03-02'), [
      '2024-02-27',
      '2024-02-28',
      '2024-02-29',
      '2024-03-01',
      '2024-03-02',
    ])
    assert.deepEqual(daysBetween('2024-05-01', '2024-05-01'), ['2024-05-01'])
    assert.deepEqual(daysBetween('2024-05-02', '2024-05-01'), [])
  })
})

describe('newestCollectableDay', () => {
  it('is today-3 in UTC, whatever the time of day', () => {
    assert.equal(newestCollectableDay(new Date('2024-05-10T00:00:00Z')), '2024-05-07')
    assert.equal(newestCollectableDay(new Date('2024-05-10T23:59:59.999Z')), '2024-05-07')
    // 2024-05-10 22:00 at UTC-3 is 2024-05-11 01:00 UTC.
    assert.equal(newestCollectableDay(new Date('2024-05-10T22:00:00-03:00')), '2024-05-08')
  })
})

describe('candidateDays', () => {
  it('gives N days ending at today-3, oldest first', () => {
    assert.deepEqual(candidateDays(new Date('2024-05-20T05:00:00Z'), 5), [
      '2024-05-13',
      '2024-05-14',
      '2024-05-15',
      '2024-05-16',
      '2024-05-17',
    ])
  })

  it('gives exactly N days (not N-3, the old exporter bug) for the default of 15', () => {
    const days = candidateDays(new Date('2024-05-20T05:00:00Z'), 15)
    assert.equal(days.length, 15)
    assert.equal(days[0], '2024-05-03')
    assert.equal(days.at(-1), '2024-05-17')
    assert.equal(new Set(days).size, 15)
  })

  it('N=1 is today-3 alone', () => {
    assert.deepEqual(candidateDays(new Date('2024-05-20T23:59:59Z'), 1), ['2024-05-17'])
  })

  it('crosses a month boundary', () => {
    assert.deepEqual(candidateDays(new Date('2024-05-04T12:00:00Z'), 4), [
      '2024-04-28',
      '2024-04-29',
      '2024-04-30',
      '2024-05-01',
    ])
  })

  it('crosses a year boundary, today-3 itself in the previous year', () => {
    assert.deepEqual(candidateDays(new Date('2027-01-03T05:00:00Z'), 6), [
      '2026-12-26',
      '2026-12-27',
      '2026-12-28',
      '2026-12-29',
      '2026-12-30',
      '2026-12-31',
    ])
    assert.deepEqual(candidateDays(new Date('2027-01-02T00:00:00Z'), 2), ['2026-12-29', '2026-12-30'])
  })

  it('includes the leap day', () => {
    assert.deepEqual(candidateDays(new Date('2024-03-03T00:00:00Z'), 3), ['2024-02-27', '2024-02-28', '2024-02-29'])
    assert.deepEqual(candidateDays(new Date('2024-03-04T00:00:00Z'), 3), ['2024-02-28', '2024-02-29', '2024-03-01'])
  })

  it('skips 02-29 in a non-leap year', () => {
    assert.deepEqual(candidateDays(new Date('2025-03-04T00:00:00Z'), 3), ['2025-02-27', '2025-02-28', '2025-03-01'])
  })
})

describe('windowParam', () => {
  it('covers one day as RFC 3339 with Z and no milliseconds', () => {
    assert.equal(windowParam('2024-05-01'), '2024-05-01T00:00:00Z,2024-05-02T00:00:00Z')
  })

  it('covers an inclusive range of days', () => {
    assert.equal(windowParam('2024-05-01', '2024-05-15'), '2024-05-01T00:00:00Z,2024-05-16T00:00:00Z')
  })

  it('ends at the next month, year, or after the leap day', () => {
    assert.equal(windowParam('2024-04-30'), '2024-04-30T00:00:00Z,2024-05-01T00:00:00Z')
    assert.equal(windowParam('2025-12-31'), '2025-12-31T00:00:00Z,2026-01-01T00:00:00Z')
    assert.equal(windowParam('2024-02-28', '2024-02-29'), '2024-02-28T00:00:00Z,2024-03-01T00:00:00Z')
  })

  it('rfc3339 drops milliseconds and keeps Z', () => {
    assert.equal(rfc3339(new Date('2024-05-01T10:20:30.456Z')), '2024-05-01T10:20:30Z')
    assert.equal(rfc3339(new Date(Date.UTC(2024, 0, 1))), '2024-01-01T00:00:00Z')
  })
})
