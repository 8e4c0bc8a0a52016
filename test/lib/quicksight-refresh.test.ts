import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {AwsError} from '../../src/lib/errors.js'
import {type Ingestion, startOrAttach} from '../../src/lib/quicksight/refresh.js'

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
