import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {classifyAwsError} from '../../src/lib/aws/errors.js'

const UPDATE = {
  action: 'glue:UpdateCrawler',
  resource: 'crawler kubecost_crawler',
  identity: 'role arn:aws:iam::111122223333:role/ci',
}
const sdkError = (name: string, status = 400) =>
  Object.assign(new Error(`${name} from Glue`), {name, $metadata: {httpStatusCode: status}})

describe('classifyAwsError for Glue and Athena', () => {
  for (const name of [
    'ConcurrentModificationException',
    'CrawlerRunningException',
    'CrawlerStoppingException',
    'SchedulerTransitioningException',
  ]) {
    it(`${name} is a busy resource: AWS_CONCURRENT, exit 1, saying to wait and run again`, () => {
      const error = classifyAwsError(sdkError(name), UPDATE)
      assert.equal(error.code, 'AWS_CONCURRENT')
      assert.equal(error.exitCode, 1)
      assert.equal(
        error.message,
        `glue:UpdateCrawler on crawler kubecost_crawler failed: the resource is busy or was changed at the same time (${name}: ${name} from Glue)`,
      )
      assert.match(error.suggestions.at(-1) ?? '', /Wait for the running crawl or the other change to finish/)
    })
  }

  it('AlreadyExistsException (created meanwhile) says to run again', () => {
    const error = classifyAwsError(sdkError('AlreadyExistsException'), {
      action: 'glue:CreateTable',
      resource: 'table db.t',
    })
    assert.equal(error.code, 'AWS_ALREADY_EXISTS')
    assert.match(error.message, /^glue:CreateTable on table db\.t failed: it was created by someone else meanwhile/)
  })

  it('EntityNotFoundException is not found; AccessDeniedException names the identity', () => {
    assert.equal(classifyAwsError(sdkError('EntityNotFoundException'), UPDATE).code, 'AWS_NOT_FOUND')
    const denied = classifyAwsError(sdkError('AccessDeniedException'), UPDATE)
    assert.equal(denied.code, 'AWS_ACCESS_DENIED')
    assert.match(
      denied.message,
      /glue:UpdateCrawler on crawler kubecost_crawler as role arn:aws:iam::111122223333:role\/ci/,
    )
  })

  it("Glue throttling is AWS_THROTTLED once the SDK's retries are spent", () => {
    const error = classifyAwsError(
      Object.assign(sdkError('ThrottlingException'), {$metadata: {httpStatusCode: 400, attempts: 5}}),
      UPDATE,
    )
    assert.equal(error.code, 'AWS_THROTTLED')
    assert.match(
      error.message,
      /^Glue is throttling requests: glue:UpdateCrawler on crawler kubecost_crawler failed after 5 attempts/,
    )
  })
})
