import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {
  checkClusterMap,
  clusterFilter,
  parseClusterMapFile,
  parseClusterMapList,
  parseClusterMapping,
} from '../../src/lib/cluster-map.js'
import {ConfigError, InvalidInputError} from '../../src/lib/errors.js'

const NAME = {flag: 'cluster-map', env: 'CLUSTER_MAP'}
const ONE = 'arn:aws:eks:us-east-1:111122223333:cluster/one'
const TWO = 'arn:aws-cn:eks:cn-north-1:444455556666:cluster/two'

describe('parseClusterMapping', () => {
  it('reads <kubecost cluster id>=<EKS cluster ARN>, trimmed, the ARN giving account, region and name', () => {
    const mapping = parseClusterMapping(' cluster-one = ' + ONE + ' ', NAME)
    assert.equal(mapping.kubecostCluster, 'cluster-one')
    assert.deepEqual(mapping.cluster, {
      arn: ONE,
      partition: 'aws',
      region: 'us-east-1',
      accountId: '111122223333',
      name: 'one',
    })
    // An id may itself hold "=" (the last one splits) and any other character Kubecost allows.
    assert.equal(parseClusterMapping(`a=b:c/d=${TWO}`, NAME).kubecostCluster, 'a=b:c/d')
  })

  for (const [entry, problem] of [
    ['cluster-one', /expected <kubecost cluster id>=<EKS cluster ARN>/],
    [`=${ONE}`, /expected/],
    ['cluster-one=', /expected/],
    ['a=arn:aws:eks:us-east-1:111122223333:cluster/', /is not an EKS cluster ARN/],
    [`a"b=${ONE}`, /contains a quote/],
    [`a\\b=${ONE}`, /backslash/],
    [`a\tb=${ONE}`, /control character/],
  ] as const) {
    it(`refuses ${JSON.stringify(entry)} naming the flag, the variable and the value`, () => {
      assert.throws(
        () => parseClusterMapping(entry, NAME),
        (error: unknown) =>
          error instanceof InvalidInputError &&
          error.exitCode === 2 &&
          error.flag === 'cluster-map' &&
          error.envVar === 'CLUSTER_MAP' &&
          error.value === entry &&
          problem.test(error.message),
      )
    })
  }
})

describe('parseClusterMapList and parseClusterMapFile', () => {
  it('reads a comma-separated list, skipping empty items', () => {
    assert.deepEqual(
      parseClusterMapList(`one=${ONE}, ,two=${TWO},`, NAME).map(m => m.kubecostCluster),
      ['one', 'two'],
    )
    assert.throws(() => parseClusterMapList(' , ', NAME), /no mapping given/)
  })

  it('reads a file of one mapping a line, with comments and blank lines, and names the line of a bad one', () => {
    const file = {flag: 'cluster-map-file', env: 'CLUSTER_MAP_FILE'}
    assert.deepEqual(
      parseClusterMapFile(`# header\r\n\none=${ONE} # prod\n  two=${TWO}\n`, 'map.txt', file).map(m => m.cluster.name),
      ['one', 'two'],
    )
    assert.throws(() => parseClusterMapFile(`one=${ONE}\n\ntwo ${TWO}\n`, 'map.txt', file), /map\.txt line 3: expected/)
    assert.throws(() => parseClusterMapFile('# nothing\n', 'map.txt', file), /the file holds no mapping/)
  })
})

describe('checkClusterMap', () => {
  const m = (id: string, arn: string) => parseClusterMapping(`${id}=${arn}`, NAME)

  it('keeps the map order and drops an exact repeat', () => {
    assert.deepEqual(
      checkClusterMap([m('b', TWO), m('a', ONE), m('b', TWO)]).map(x => x.kubecostCluster),
      ['b', 'a'],
    )
  })

  it('refuses one id mapped to two ARNs, and two ids mapped to one ARN', () => {
    assert.throws(
      () => checkClusterMap([m('a', ONE), m('a', TWO)]),
      (e: unknown) => e instanceof ConfigError && e.exitCode === 2 && /"a" is mapped twice/.test(e.message),
    )
    assert.throws(
      () => checkClusterMap([m('a', ONE), m('b', ONE)]),
      (e: unknown) => e instanceof ConfigError && /overwrite each other/.test(e.message),
    )
  })
})

describe('checkClusterMap: two entries whose files would share a key', () => {
  const m = (id: string, arn: string) => parseClusterMapping(`${id}=${arn}`, NAME)

  it('refuses ARNs that differ only in their partition, naming both entries and the key', () => {
    const aws = 'arn:aws:eks:us-east-1:111122223333:cluster/prod'
    const china = 'arn:aws-cn:eks:us-east-1:111122223333:cluster/prod'
    assert.throws(
      () => checkClusterMap([m('one', ONE), m('east', aws), m('x', TWO), m('east-cn', china)]),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.exitCode === 2 &&
        e.message ===
          `The cluster map entries east=${aws} and east-cn=${china} differ only in their partition (aws, aws-cn), which the files' keys do not hold: both clusters' files would be account_id=111122223333/region=us-east-1/year=<YYYY>/month=<MM>/<YYYY-MM-DD>_prod.snappy.parquet, each overwriting the other's` &&
        /Map each Kubecost cluster id to the ARN of its own EKS cluster/.test(e.suggestions.join(' ')),
    )
  })

  it('accepts one name in two accounts or two regions: their keys differ', () => {
    assert.equal(
      checkClusterMap([
        m('a', 'arn:aws:eks:us-east-1:111122223333:cluster/prod'),
        m('b', 'arn:aws:eks:us-east-1:444455556666:cluster/prod'),
        m('c', 'arn:aws:eks:eu-west-1:111122223333:cluster/prod'),
      ]).length,
      3,
    )
  })
})

describe('clusterFilter', () => {
  it("writes Kubecost's filter language, each id quoted", () => {
    assert.equal(clusterFilter(['cluster-one', 'a b']), 'cluster:"cluster-one","a b"')
  })
})
