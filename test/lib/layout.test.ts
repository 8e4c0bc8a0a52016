import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {parseClusterArn} from '../../src/lib/cluster.js'
import {InvalidInputError} from '../../src/lib/errors.js'
import {Layout, normalizePrefix} from '../../src/lib/layout.js'
import {named} from '../settings.js'

const PROD = parseClusterArn('arn:aws:eks:us-east-1:111122223333:cluster/prod')
const PROD_KEY = 'account_id=111122223333/region=us-east-1/year=2024/month=05/2024-05-01_prod.snappy.parquet'

describe('Layout.key', () => {
  it('builds the Hive-style key without a prefix', () => {
    const layout = new Layout(PROD)
    assert.equal(layout.prefix, '')
    assert.equal(layout.listingPrefix, 'account_id=111122223333/region=us-east-1/')
    assert.equal(layout.fileName('2024-05-01'), '2024-05-01_prod.snappy.parquet')
    assert.equal(layout.key('2024-05-01'), PROD_KEY)
  })

  it("zero-pads the month and uses the day's own year and month", () => {
    const layout = new Layout(PROD)
    assert.equal(
      layout.key('2024-12-31'),
      'account_id=111122223333/region=us-east-1/year=2024/month=12/2024-12-31_prod.snappy.parquet',
    )
    assert.equal(
      layout.key('2025-01-01'),
      'account_id=111122223333/region=us-east-1/year=2025/month=01/2025-01-01_prod.snappy.parquet',
    )
  })

  it('puts the prefix in front', () => {
    const layout = new Layout(PROD, 'kubecost')
    assert.equal(layout.prefix, 'kubecost')
    assert.equal(layout.listingPrefix, 'kubecost/account_id=111122223333/region=us-east-1/')
    assert.equal(layout.key('2024-05-01'), `kubecost/${PROD_KEY}`)
  })

  it('accepts a nested prefix', () => {
    assert.equal(new Layout(PROD, 'exports/kubecost').key('2024-05-01'), `exports/kubecost/${PROD_KEY}`)
  })

  it("uses the cluster's account, region and name from any partition", () => {
    const gov = parseClusterArn('arn:aws-us-gov:eks:us-gov-west-1:000000000001:cluster/gov_1')
    assert.equal(
      new Layout(gov, 'p').key('2024-02-29'),
      'p/account_id=000000000001/region=us-gov-west-1/year=2024/month=02/2024-02-29_gov_1.snappy.parquet',
    )
  })
})

describe('normalizePrefix', () => {
  it('strips leading and trailing slashes and whitespace', () => {
    assert.equal(normalizePrefix('/kubecost/'), 'kubecost')
    assert.equal(normalizePrefix('///kubecost///'), 'kubecost')
    assert.equal(normalizePrefix('  exports/kubecost/ '), 'exports/kubecost')
    assert.equal(normalizePrefix('/'), '')
    assert.equal(normalizePrefix(''), '')
    assert.equal(normalizePrefix('   '), '')
  })

  it('normalises the prefix of a Layout', () => {
    assert.equal(new Layout(PROD, '/kubecost/').key('2024-05-01'), `kubecost/${PROD_KEY}`)
    assert.equal(new Layout(PROD, '/').key('2024-05-01'), PROD_KEY)
  })

  for (const prefix of ['..', '../x', 'a/../b', 'a/..', '.', 'a/./b', 'a//b']) {
    it(`rejects ${JSON.stringify(prefix)} naming --prefix and S3_PREFIX`, () => {
      assert.throws(
        () => new Layout(PROD, prefix),
        (error: unknown) => {
          assert.ok(error instanceof InvalidInputError)
          assert.equal(error.exitCode, 2)
          // As the CLI shows it: library code names the setting, the command layer its flag and variable.
          assert.ok(named(error.message).includes('--prefix (S3_PREFIX)'), named(error.message))
          assert.ok(error.message.includes(`"${prefix}"`), error.message)
          return true
        },
      )
    })
  }

  for (const [prefix, shown] of [
    ['kube\ncost', 'kube\\ncost'],
    ['\u001b[31mred', '\\x1b[31mred'],
    ['a\tb/c', 'a\\tb/c'],
    ['del\u007f', 'del\\x7f'],
    ['nel\u0085', 'nel\\u0085'],
  ] as const) {
    it(`rejects the control character in ${JSON.stringify(prefix)}, showing it escaped`, () => {
      assert.throws(
        () => normalizePrefix(prefix),
        (error: unknown) => {
          assert.ok(error instanceof InvalidInputError)
          assert.equal(error.exitCode, 2)
          assert.equal(
            named(error.message),
            `Invalid --prefix (S3_PREFIX) "${shown}": a key prefix cannot contain control characters`,
          )
          return true
        },
      )
    })
  }

  it('still trims the whitespace around it, a newline included (an env var read from a file)', () => {
    assert.equal(normalizePrefix('kubecost\n'), 'kubecost')
  })

  it('keeps dots inside a segment', () => {
    assert.equal(normalizePrefix('a..b/.c/d.'), 'a..b/.c/d.')
  })
})

describe('Layout.dayOfKey', () => {
  const layout = new Layout(PROD)

  it("returns the day of this layout's exact key", () => {
    assert.equal(layout.dayOfKey(PROD_KEY), '2024-05-01')
    assert.equal(layout.dayOfKey(layout.key('2024-02-29')), '2024-02-29')
    assert.equal(layout.dayOfKey(layout.key('2026-12-31')), '2026-12-31')
  })

  it('does not match a cluster whose name contains this one', () => {
    const base = 'account_id=111122223333/region=us-east-1/year=2024/month=05/'
    assert.equal(layout.dayOfKey(`${base}2024-05-01_prod-eu.snappy.parquet`), undefined)
    assert.equal(layout.dayOfKey(`${base}2024-05-01_eu-prod.snappy.parquet`), undefined)
    assert.equal(layout.dayOfKey(`${base}2024-05-01_production.snappy.parquet`), undefined)
    assert.equal(layout.dayOfKey(`${base}2024-05-01_pro.snappy.parquet`), undefined)
    assert.equal(layout.dayOfKey(`${base}2024-05-01_prod_2.snappy.parquet`), undefined)
  })

  it('does not match the other cluster either way round', () => {
    const prodEu = new Layout(parseClusterArn('arn:aws:eks:us-east-1:111122223333:cluster/prod-eu'))
    assert.equal(prodEu.dayOfKey(PROD_KEY), undefined)
    assert.equal(prodEu.dayOfKey(prodEu.key('2024-05-01')), '2024-05-01')
  })

  it('does not match a file in the wrong year or month folder', () => {
    assert.equal(
      layout.dayOfKey('account_id=111122223333/region=us-east-1/year=2024/month=06/2024-05-01_prod.snappy.parquet'),
      undefined,
    )
    assert.equal(
      layout.dayOfKey('account_id=111122223333/region=us-east-1/year=2023/month=05/2024-05-01_prod.snappy.parquet'),
      undefined,
    )
    assert.equal(
      layout.dayOfKey('account_id=111122223333/region=us-east-1/year=2024/month=5/2024-05-01_prod.snappy.parquet'),
      undefined,
    )
    assert.equal(layout.dayOfKey('account_id=111122223333/region=us-east-1/2024-05-01_prod.snappy.parquet'), undefined)
    assert.equal(layout.dayOfKey('2024-05-01_prod.snappy.parquet'), undefined)
  })

  it('does not match another account or region', () => {
    assert.equal(
      layout.dayOfKey('account_id=444455556666/region=us-east-1/year=2024/month=05/2024-05-01_prod.snappy.parquet'),
      undefined,
    )
    assert.equal(
      layout.dayOfKey('account_id=111122223333/region=eu-west-1/year=2024/month=05/2024-05-01_prod.snappy.parquet'),
      undefined,
    )
  })

  it('does not match a file that is not a Snappy Parquet file', () => {
    const base = 'account_id=111122223333/region=us-east-1/year=2024/month=05/2024-05-01_prod'
    for (const suffix of ['.parquet', '.snappy.parquet.tmp', '.snappy.parquet/', '.csv', '.snappy.PARQUET', '']) {
      assert.equal(layout.dayOfKey(`${base}${suffix}`), undefined, suffix)
    }
  })

  it('does not match a key under another prefix', () => {
    assert.equal(layout.dayOfKey(`other/${PROD_KEY}`), undefined)
    const prefixed = new Layout(PROD, 'kubecost')
    assert.equal(prefixed.dayOfKey(PROD_KEY), undefined)
    assert.equal(prefixed.dayOfKey(`other/${PROD_KEY}`), undefined)
    assert.equal(prefixed.dayOfKey(`kubecost/sub/${PROD_KEY}`), undefined)
    assert.equal(prefixed.dayOfKey(`kubecost/${PROD_KEY}`), '2024-05-01')
  })

  it('does not match an invalid date', () => {
    assert.equal(
      layout.dayOfKey('account_id=111122223333/region=us-east-1/year=2024/month=02/2024-02-30_prod.snappy.parquet'),
      undefined,
    )
    assert.equal(
      layout.dayOfKey('account_id=111122223333/region=us-east-1/year=2023/month=02/2023-02-29_prod.snappy.parquet'),
      undefined,
    )
    assert.equal(
      layout.dayOfKey('account_id=111122223333/region=us-east-1/year=2024/month=13/2024-13-01_prod.snappy.parquet'),
      undefined,
    )
    assert.equal(
      layout.dayOfKey('account_id=111122223333/region=us-east-1/year=2024/month=05/2024-5-01_prod.snappy.parquet'),
      undefined,
    )
  })

  it('ignores the listing prefix itself and folder markers', () => {
    assert.equal(layout.dayOfKey(layout.listingPrefix), undefined)
    assert.equal(layout.dayOfKey('account_id=111122223333/region=us-east-1/year=2024/month=05/'), undefined)
  })
})
