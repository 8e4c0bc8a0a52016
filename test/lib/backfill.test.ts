import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {type PlanInput, type PlannedDay, daysToCollect, planDays, summarizePlan} from '../../src/lib/backfill.js'
import {candidateDays, daysBetween} from '../../src/lib/dates.js'

const keyOf = (day: string) => `k/${day}`

function plan(input: PlanInput): PlannedDay[] {
  return planDays(input, keyOf)
}

/** Just `date status` pairs, for compact expectations. */
function statuses(days: readonly PlannedDay[]): string[] {
  return days.map(d => `${d.date} ${d.status}`)
}

describe('planDays', () => {
  it('gives every candidate day one of present/collect/unavailable, oldest first, with its key', () => {
    const days = plan({
      candidates: ['2024-05-01', '2024-05-02', '2024-05-03', '2024-05-04'],
      available: new Set(['2024-05-01', '2024-05-02', '2024-05-04']),
      present: new Set(['2024-05-02', '2024-05-03']),
    })
    assert.deepEqual(days, [
      {date: '2024-05-01', status: 'collect', key: 'k/2024-05-01'},
      {date: '2024-05-02', status: 'present', key: 'k/2024-05-02'},
      {date: '2024-05-03', status: 'present', key: 'k/2024-05-03'},
      {date: '2024-05-04', status: 'collect', key: 'k/2024-05-04'},
    ])
  })

  it('marks a day neither available nor present as unavailable', () => {
    const days = plan({
      candidates: ['2024-05-01', '2024-05-02'],
      available: new Set(['2024-05-02']),
      present: new Set(),
    })
    assert.deepEqual(statuses(days), ['2024-05-01 unavailable', '2024-05-02 collect'])
  })

  it('plans nothing to collect when every day is present (a second run writes nothing)', () => {
    const candidates = daysBetween('2024-05-01', '2024-05-15')
    const days = plan({candidates, available: new Set(candidates), present: new Set(candidates)})
    assert.equal(days.length, 15)
    assert.ok(days.every(d => d.status === 'present'))
    assert.deepEqual(daysToCollect(days), [])
  })

  it('plans nothing when Kubecost has no data at all', () => {
    const candidates = daysBetween('2024-05-01', '2024-05-03')
    const days = plan({candidates, available: new Set(), present: new Set()})
    assert.deepEqual(statuses(days), ['2024-05-01 unavailable', '2024-05-02 unavailable', '2024-05-03 unavailable'])
    assert.deepEqual(summarizePlan(days), {present: 0, collect: 0, recollect: 0, unavailable: 3})
  })

  it('fills a gap in the middle', () => {
    const candidates = daysBetween('2024-05-01', '2024-05-07')
    const days = plan({
      candidates,
      available: new Set(candidates),
      present: new Set(['2024-05-01', '2024-05-02', '2024-05-06', '2024-05-07']),
    })
    assert.deepEqual(
      daysToCollect(days).map(d => d.date),
      ['2024-05-03', '2024-05-04', '2024-05-05'],
    )
  })

  it('keeps a present day present even when Kubecost no longer has it', () => {
    const days = plan({candidates: ['2024-05-01'], available: new Set(), present: new Set(['2024-05-01'])})
    assert.deepEqual(statuses(days), ['2024-05-01 present'])
  })

  it('ignores present and available days outside the candidate range', () => {
    const days = plan({
      candidates: ['2024-05-10', '2024-05-11'],
      available: new Set(['2024-05-09', '2024-05-10', '2024-05-11', '2024-05-12']),
      present: new Set(['2024-04-01', '2024-05-09', '2024-05-12', '2023-05-10']),
    })
    assert.deepEqual(statuses(days), ['2024-05-10 collect', '2024-05-11 collect'])
  })

  it('plans nothing for no candidates', () => {
    assert.deepEqual(plan({candidates: [], available: new Set(['2024-05-01']), present: new Set()}), [])
  })

  it('handles --backfill-days 1', () => {
    const candidates = candidateDays(new Date('2024-05-20T05:00:00Z'), 1)
    assert.deepEqual(candidates, ['2024-05-17'])
    assert.deepEqual(statuses(plan({candidates, available: new Set(['2024-05-17']), present: new Set()})), [
      '2024-05-17 collect',
    ])
    assert.deepEqual(
      statuses(plan({candidates, available: new Set(['2024-05-17']), present: new Set(['2024-05-17'])})),
      ['2024-05-17 present'],
    )
    assert.deepEqual(statuses(plan({candidates, available: new Set(['2024-05-16']), present: new Set()})), [
      '2024-05-17 unavailable',
    ])
  })

  it('crosses a month boundary', () => {
    const candidates = candidateDays(new Date('2024-05-04T00:00:00Z'), 4)
    const days = plan({candidates, available: new Set(candidates), present: new Set(['2024-04-29', '2024-05-01'])})
    assert.deepEqual(statuses(days), [
      '2024-04-28 collect',
      '2024-04-29 present',
      '2024-04-30 collect',
      '2024-05-01 present',
    ])
  })

  it('crosses a year boundary', () => {
    const candidates = candidateDays(new Date('2027-01-03T05:00:00Z'), 6)
    const days = plan({
      candidates,
      available: new Set(['2026-12-27', '2026-12-28', '2026-12-29', '2026-12-31']),
      present: new Set(['2026-12-28', '2026-12-26', '2026-12-01']),
    })
    assert.deepEqual(statuses(days), [
      '2026-12-26 present',
      '2026-12-27 collect',
      '2026-12-28 present',
      '2026-12-29 collect',
      '2026-12-30 unavailable',
      '2026-12-31 collect',
    ])
    assert.deepEqual(
      days.map(d => d.key),
      candidates.map(keyOf),
    )
  })

  it('uses the key function for every day', () => {
    const seen: string[] = []
    planDays({candidates: ['2024-05-01', '2024-05-02'], available: new Set(), present: new Set()}, d => {
      seen.push(d)
      return d
    })
    assert.deepEqual(seen, ['2024-05-01', '2024-05-02'])
  })
})

describe('planDays with force', () => {
  const candidates = daysBetween('2024-05-01', '2024-05-06')
  const available = new Set(['2024-05-01', '2024-05-02', '2024-05-03', '2024-05-05', '2024-05-06'])
  const present = new Set(['2024-05-01', '2024-05-02', '2024-05-03', '2024-05-04', '2024-05-06'])

  it('re-collects present, available days inside the range only', () => {
    const days = plan({candidates, available, present, force: {from: '2024-05-02', to: '2024-05-04'}})
    assert.deepEqual(statuses(days), [
      '2024-05-01 present',
      '2024-05-02 recollect',
      '2024-05-03 recollect',
      '2024-05-04 present', // forced but Kubecost no longer has it: keep the file
      '2024-05-05 collect',
      '2024-05-06 present',
    ])
  })

  it('includes both ends of the range', () => {
    const days = plan({candidates, available, present, force: {from: '2024-05-01', to: '2024-05-01'}})
    assert.deepEqual(
      daysToCollect(days).map(d => `${d.date} ${d.status}`),
      ['2024-05-01 recollect', '2024-05-05 collect'],
    )
    const last = plan({candidates, available, present, force: {from: '2024-05-06', to: '2024-05-06'}})
    assert.deepEqual(
      daysToCollect(last).map(d => `${d.date} ${d.status}`),
      ['2024-05-05 collect', '2024-05-06 recollect'],
    )
  })

  it('does not change missing days', () => {
    const days = plan({candidates, available, present, force: {from: '2024-05-01', to: '2024-05-06'}})
    assert.deepEqual(statuses(days), [
      '2024-05-01 recollect',
      '2024-05-02 recollect',
      '2024-05-03 recollect',
      '2024-05-04 present',
      '2024-05-05 collect',
      '2024-05-06 recollect',
    ])
  })

  it('does nothing for a range outside the candidates', () => {
    const days = plan({candidates, available, present, force: {from: '2024-04-01', to: '2024-04-30'}})
    assert.deepEqual(summarizePlan(days), {present: 5, collect: 1, recollect: 0, unavailable: 0})
  })

  it('compares days across a month boundary', () => {
    const across = daysBetween('2024-04-29', '2024-05-02')
    const days = plan({
      candidates: across,
      available: new Set(across),
      present: new Set(across),
      force: {from: '2024-04-30', to: '2024-05-01'},
    })
    assert.deepEqual(statuses(days), [
      '2024-04-29 present',
      '2024-04-30 recollect',
      '2024-05-01 recollect',
      '2024-05-02 present',
    ])
  })

  it('does nothing for an empty (reversed) range', () => {
    const days = plan({candidates, available, present, force: {from: '2024-05-03', to: '2024-05-02'}})
    assert.equal(summarizePlan(days).recollect, 0)
  })
})

describe('daysToCollect and summarizePlan', () => {
  const days: PlannedDay[] = [
    {date: '2024-05-01', status: 'present', key: 'a'},
    {date: '2024-05-02', status: 'collect', key: 'b'},
    {date: '2024-05-03', status: 'recollect', key: 'c'},
    {date: '2024-05-04', status: 'unavailable', key: 'd'},
    {date: '2024-05-05', status: 'collect', key: 'e'},
    {date: '2024-05-06', status: 'present', key: 'f'},
  ]

  it('collects the collect and recollect days, oldest first, unchanged', () => {
    assert.deepEqual(daysToCollect(days), [days[1], days[2], days[4]])
  })

  it('counts each status, zeros included', () => {
    assert.deepEqual(summarizePlan(days), {present: 2, collect: 2, recollect: 1, unavailable: 1})
    assert.deepEqual(summarizePlan([]), {present: 0, collect: 0, recollect: 0, unavailable: 0})
  })
})
