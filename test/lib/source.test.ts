import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {KubecostConnectionError, KubecostHttpError} from '../../src/lib/errors.js'
import {KubecostClient, errorBodyText} from '../../src/lib/kubecost/client.js'
import {AGGREGATIONS, allocationParams, assetsParams, availabilityParams} from '../../src/lib/kubecost/requests.js'
import {KUBECOST, OPENCOST, costSource, sourceUrl} from '../../src/lib/kubecost/source.js'
import {FakeOpenCost} from '../fakes/opencost-server.js'

const DAY = '2026-03-02'
const WINDOW = '2026-03-02T00:00:00Z,2026-03-03T00:00:00Z'

describe('cost sources', () => {
  it('leaves the Kubecost query as the SPEC writes it', () => {
    assert.equal(costSource('kubecost'), KUBECOST)
    assert.deepEqual(KUBECOST.params('allocation', allocationParams(DAY, 'pod')), allocationParams(DAY, 'pod'))
    assert.deepEqual(KUBECOST.params('assets', assetsParams(DAY)), assetsParams(DAY))
    assert.deepEqual(KUBECOST.paths, {allocation: '/model/allocation', assets: '/model/assets'})
  })

  it("maps the collection query onto OpenCost's parameter names, for every aggregation", () => {
    assert.equal(costSource('opencost'), OPENCOST)
    for (const aggregation of AGGREGATIONS) {
      const kubecost = allocationParams(DAY, aggregation)
      assert.deepEqual(OPENCOST.params('allocation', kubecost), {
        window: WINDOW,
        aggregate: kubecost.aggregate,
        step: '1d',
        accumulate: 'false',
        includeIdle: 'true',
        idleByNode: 'true',
        shareIdle: 'false',
      })
    }
  })

  it('keeps the availability query, whose names OpenCost shares, and passes unknown parameters through', () => {
    assert.deepEqual(OPENCOST.params('allocation', availabilityParams('2026-02-28', DAY)), {
      window: '2026-02-28T00:00:00Z,2026-03-03T00:00:00Z',
      aggregate: 'cluster',
      step: '1d',
      accumulate: 'false',
    })
    assert.deepEqual(OPENCOST.params('allocation', {window: WINDOW, filter: 'cluster:"a"'}), {
      window: WINDOW,
      filter: 'cluster:"a"',
    })
  })

  it("asks OpenCost's /assets for the window's nodes in its filter language, without accumulate", () => {
    assert.deepEqual(OPENCOST.params('assets', assetsParams(DAY)), {window: WINDOW, filter: 'assetType:"node"'})
    assert.deepEqual(OPENCOST.paths, {allocation: '/allocation/compute', assets: '/assets'})
  })

  it("defaults the URL to the source's in-cluster service unless one is configured", () => {
    assert.equal(sourceUrl(OPENCOST, undefined), 'http://opencost.opencost:9003')
    assert.equal(sourceUrl(OPENCOST, ''), 'http://opencost.opencost:9003')
    assert.equal(sourceUrl(KUBECOST, undefined), 'http://kubecost-cost-analyzer.kubecost:9090')
    assert.equal(sourceUrl(OPENCOST, 'http://localhost:9003'), 'http://localhost:9003')
  })
})

describe('errorBodyText', () => {
  it("shows an envelope's message rather than its JSON", () => {
    assert.equal(errorBodyText('{"code":500,"status":"","data":null,"message":"Error: no data"}'), 'Error: no data')
    assert.equal(errorBodyText('{"code":400,"error":"bad aggregate"}'), 'bad aggregate')
  })

  it('shows the start of any other body', () => {
    assert.equal(
      errorBodyText("Invalid 'window' parameter: illegal window\n"),
      "Invalid 'window' parameter: illegal window",
    )
    assert.equal(errorBodyText('{"code":500,"message":'), '{"code":500,"message":')
    assert.equal(errorBodyText('{"code":500}'), '{"code":500}')
    assert.equal(errorBodyText('x'.repeat(1000)).length <= 203, true)
  })
})

describe('KubecostClient with the OpenCost source', () => {
  let fake: FakeOpenCost
  before(async () => {
    fake = await FakeOpenCost.start({days: [DAY], containersPerDay: 3})
  })
  after(async () => fake.close())

  const client = (url: string, extra: Partial<ConstructorParameters<typeof KubecostClient>[0]> = {}) =>
    new KubecostClient({
      baseUrl: url,
      source: OPENCOST,
      // Far above what a busy machine can delay an answer by: no test here waits for a timeout.
      connectTimeoutMs: 10_000,
      allocationReadTimeoutMs: 10_000,
      assetsReadTimeoutMs: 10_000,
      ...extra,
    })

  it("calls OpenCost's paths under the base URL's path, in its parameter names", () => {
    const opencost = client('http://opencost.example:9090/model/')
    assert.equal(
      opencost.url('assets', assetsParams(DAY)),
      `http://opencost.example:9090/model/assets?window=${encodeURIComponent(WINDOW)}&filter=${encodeURIComponent('assetType:"node"')}`,
    )
    assert.match(
      opencost.url('allocation', allocationParams(DAY, 'cluster')),
      /\/model\/allocation\/compute\?.*includeIdle=true/,
    )
  })

  it('streams the single-object assets envelope, entry by entry', async () => {
    const opencost = client(fake.url)
    const keys: string[] = []
    try {
      const result = await opencost.stream('assets', assetsParams(DAY), {onEntry: e => keys.push(e.key)})
      assert.equal(result.sets, 1)
      assert.equal(keys.length, 4)
      assert.ok(keys.every(k => k.includes('/Node/')))
    } finally {
      await opencost.close()
    }
  })

  it('names OpenCost, the status and the message of an error body', async () => {
    fake.addFault({kind: 'error-500', api: 'allocation', times: 1, message: 'boom'})
    const opencost = client(fake.url)
    try {
      await assert.rejects(
        opencost.stream('allocation', allocationParams(DAY, 'pod'), {onEntry() {}}),
        (error: unknown) => {
          assert.ok(error instanceof KubecostHttpError)
          assert.equal(error.status, 500)
          assert.match(error.message, /^OpenCost Allocation API returned HTTP 500 .*: Error: boom$/)
          assert.match(error.suggestions.join(), /opencost pod's logs/)
          return true
        },
      )
    } finally {
      await opencost.close()
    }
  })

  it("gives OpenCost's advice for a refused connection and a 404", async () => {
    const opencost = client(fake.url)
    try {
      await assert.rejects(opencost.stream('allocation', {window: 'x'}, {onEntry() {}}), (error: unknown) => {
        assert.ok(error instanceof KubecostHttpError)
        assert.equal(error.status, 400)
        assert.match(error.message, /Invalid 'window' parameter/)
        return true
      })
    } finally {
      await opencost.close()
    }

    const misplaced = client(`${fake.url}/opencost`)
    try {
      await assert.rejects(
        misplaced.stream('allocation', allocationParams(DAY, 'pod'), {onEntry() {}}),
        (error: unknown) => {
          assert.ok(error instanceof KubecostHttpError)
          assert.equal(error.status, 404)
          assert.match(error.suggestions.join(), /OpenCost API root on port 9003/)
          return true
        },
      )
    } finally {
      await misplaced.close()
    }

    const closed = await FakeOpenCost.start({days: []})
    const url = closed.url
    await closed.close()
    const refused = client(url)
    try {
      await assert.rejects(refused.stream('assets', assetsParams(DAY), {onEntry() {}}), (error: unknown) => {
        assert.ok(error instanceof KubecostConnectionError)
        assert.equal(error.reason, 'refused')
        assert.match(error.message, /^OpenCost Assets API connection refused/)
        assert.match(error.suggestions.join(), /usually 9003/)
        return true
      })
    } finally {
      await refused.close()
    }
  })
})
