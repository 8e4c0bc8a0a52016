import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {AwsError} from '../../src/lib/errors.js'
import {type Ingestion, followIngestion, startOrAttach} from '../../src/lib/quicksight/refresh.js'
import {FakeClock} from '../fakes/clock.js'

const ingestion = (id: string, status: Ingestion['status']): Ingestion => ({id, status})
const exists = () => new AwsError('AWS_ALREADY_EXISTS', 'ingestion exists')

describe('startOrAttach', () => {
  it('joins the ingestion already in flight and starts none', async () => {
    let starts = 0
    const got = await startOrAttach({
      find: async () => ingestion('running-1', 'RUNNING'),
      start: async () => {
        starts++
        return ingestion('new', 'INITIALIZED')
      },
    })
    assert.deepEqual(got, {ingestion: ingestion('running-1', 'RUNNING'), attached: true})
    assert.equal(starts, 0)
  })

  it('starts one when none is in flight', async () => {
    const got = await startOrAttach({find: async () => undefined, start: async () => ingestion('new', 'INITIALIZED')})
    assert.deepEqual(got, {ingestion: ingestion('new', 'INITIALIZED'), attached: false})
  })

  it('follows the one another run started between the look and the start', async () => {
    const found = [undefined, ingestion('console-1', 'QUEUED')]
    const got = await startOrAttach({find: async () => found.shift(), start: async () => Promise.reject(exists())})
    assert.deepEqual(got, {ingestion: ingestion('console-1', 'QUEUED'), attached: true})
  })

  it('reports the start failure when no ingestion can be found after it, or when it is another failure', async () => {
    await assert.rejects(startOrAttach({find: async () => undefined, start: async () => Promise.reject(exists())}), {
      code: 'AWS_ALREADY_EXISTS',
    })
    const denied = new AwsError('AWS_ACCESS_DENIED', 'denied')
    let looks = 0
    await assert.rejects(
      startOrAttach({
        find: async () => {
          looks++
          return undefined
        },
        start: async () => Promise.reject(denied),
      }),
      denied,
    )
    assert.equal(looks, 1, 'no second look after a failure that is not a race')
  })
})

describe('followIngestion', () => {
  const wait = (clock: FakeClock) => ({timeoutMs: 3_600_000, poll: {initialMs: 5000, maxMs: 30_000}, clock})

  it('follows the ingestion to its end', async () => {
    const states = [ingestion('i', 'RUNNING'), ingestion('i', 'COMPLETED')]
    const followed = await followIngestion(
      async () => states.shift() ?? ingestion('i', 'X'),
      ingestion('i', 'QUEUED'),
      'ds',
      wait(new FakeClock()),
    )
    assert.deepEqual(followed, {ingestion: ingestion('i', 'COMPLETED')})
  })

  it('an ingestion whose dataset was deleted meanwhile is named as gone at once, with its last state', async () => {
    const clock = new FakeClock()
    const answers: Array<() => Ingestion> = [
      () => ingestion('i', 'RUNNING'),
      () => {
        throw new AwsError('AWS_NOT_FOUND', 'Not found: quicksight:DescribeIngestion')
      },
    ]
    const followed = await followIngestion(
      async () => (answers.shift() ?? (() => ingestion('i', 'X')))(),
      ingestion('i', 'QUEUED'),
      'ds',
      wait(clock),
    )
    assert.deepEqual(followed.ingestion, ingestion('i', 'RUNNING'))
    assert.ok(followed.failure instanceof AwsError)
    assert.equal(followed.failure.code, 'QUICKSIGHT_INGESTION_GONE')
    assert.equal(
      followed.failure.message,
      'Ingestion i of dataset ds is gone (last seen RUNNING): the dataset was deleted, or replaced, while this run waited',
    )
    assert.deepEqual(clock.sleeps, [5000])
  })

  it('a timeout hands back the ingestion as last seen with the timeout error', async () => {
    const clock = new FakeClock()
    const followed = await followIngestion(async () => ingestion('i', 'RUNNING'), ingestion('i', 'QUEUED'), 'ds', {
      ...wait(clock),
      timeoutMs: 60_000,
    })
    assert.deepEqual(followed.ingestion, ingestion('i', 'RUNNING'))
    assert.equal(followed.failure?.code, 'QUICKSIGHT_INGESTION_TIMEOUT')
    assert.equal(clock.now(), 60_000)
  })
})
