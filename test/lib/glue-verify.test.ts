import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {AwsError} from '../../src/lib/errors.js'
import {type QueryApi, verifySql, verifyView} from '../../src/lib/glue/verify.js'
import type {ProgressEvent} from '../../src/lib/wait.js'
import {FakeClock} from '../fakes/clock.js'
import {named} from '../settings.js'

/** A query whose states are scripted, one per poll, in a workgroup with (or without) a result location. */
function scripted(states: Array<{state: string; reason?: string}>, outputLocation?: string) {
  const api: QueryApi & {started: Array<[string, string]>} = {
    started: [],
    getWorkgroup: async () => (outputLocation === undefined ? {} : {outputLocation}),
    startQuery: async (sql, workgroup) => {
      api.started.push([sql, workgroup])
      return 'q-1'
    },
    queryStatus: async () => (states.length > 1 ? states.shift() : states[0]) ?? {state: 'UNKNOWN'},
  }
  return api
}

const options = (clock: FakeClock, events: ProgressEvent[] = []) => ({
  database: 'kubecost_db',
  view: 'kubecost_view',
  workgroup: 'primary',
  timeoutMs: 60_000,
  poll: {initialMs: 1000, maxMs: 4000},
  clock,
  onProgress: (e: ProgressEvent) => events.push(e),
})

describe('verifyView', () => {
  it('runs SELECT * ... LIMIT 0 and waits with back-off through QUEUED and RUNNING', async () => {
    const clock = new FakeClock()
    const events: ProgressEvent[] = []
    const api = scripted(
      [{state: 'QUEUED'}, {state: 'RUNNING'}, {state: 'RUNNING'}, {state: 'SUCCEEDED'}],
      's3://results/',
    )
    const verified = await verifyView(api, options(clock, events))
    assert.deepEqual(verified, {
      sql: 'SELECT * FROM "kubecost_db"."kubecost_view" LIMIT 0',
      workgroup: 'primary',
      queryId: 'q-1',
      state: 'SUCCEEDED',
    })
    assert.deepEqual(api.started, [[verifySql('kubecost_db', 'kubecost_view'), 'primary']])
    assert.deepEqual(clock.sleeps, [1000, 2000, 4000])
    assert.deepEqual(
      events.map(e => e.state),
      ['QUEUED', 'RUNNING', 'RUNNING'],
    )
  })

  it('a FAILED query is ATHENA_QUERY_FAILED with its reason, exit 1', async () => {
    const api = scripted([{state: 'RUNNING'}, {state: 'FAILED', reason: 'TABLE_NOT_FOUND: line 1:15'}], 's3://r/')
    await assert.rejects(verifyView(api, options(new FakeClock())), (e: unknown) => {
      assert.ok(e instanceof AwsError)
      assert.equal(e.code, 'ATHENA_QUERY_FAILED')
      assert.equal(e.exitCode, 1)
      assert.equal(
        e.message,
        'Athena could not read view kubecost_db.kubecost_view: query q-1 FAILED: TABLE_NOT_FOUND: line 1:15',
      )
      return true
    })
  })

  it('no query result location, or no workgroup: ATHENA_NO_RESULT_LOCATION, no query started', async () => {
    const api = scripted([{state: 'SUCCEEDED'}])
    await assert.rejects(verifyView(api, options(new FakeClock())), (e: unknown) => {
      assert.ok(e instanceof AwsError)
      assert.equal(e.code, 'ATHENA_NO_RESULT_LOCATION')
      assert.match(named(e.suggestions.join(' '), 'deploy-glue'), /--create-workgroup kubecost --results-location s3:/)
      return true
    })
    assert.deepEqual(api.started, [])
    const missing = {...api, getWorkgroup: async () => undefined}
    await assert.rejects(verifyView(missing, options(new FakeClock())), /workgroup primary does not exist/)
  })

  it('times out at the deadline naming the last state and the setting', async () => {
    const clock = new FakeClock()
    const api = scripted([{state: 'QUEUED'}], 's3://r/')
    await assert.rejects(verifyView(api, {...options(clock), timeoutMs: 5000}), (e: unknown) => {
      assert.ok(e instanceof AwsError)
      assert.equal(e.code, 'ATHENA_QUERY_TIMEOUT')
      assert.equal(
        named(e.message, 'deploy-glue'),
        'Athena query q-1 reading view kubecost_db.kubecost_view was still QUEUED after 5 s (--verify-timeout)',
      )
      return true
    })
    assert.equal(clock.now(), 5000)
  })
})
