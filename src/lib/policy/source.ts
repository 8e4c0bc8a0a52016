import {readFile} from 'node:fs/promises'

import {ConfigError, describeCause} from '../errors.js'
import type {PolicyState} from './analyze.js'
import type {BucketSettings} from '../aws/bucket-settings.js'
import {parsePolicy} from './document.js'
import {flag} from '../settings.js'

/** Where the policy under analysis comes from: a file (infrastructure code under review) or the live bucket. */

export async function readPolicyFile(path: string): Promise<PolicyState> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new ConfigError(`Cannot read ${flag('policyFile')} ${path}: ${describeCause(error)}`, {
      cause: error,
      suggestions: ['Give the path of a JSON bucket policy document.'],
    })
  }

  return {state: 'present', policy: parsePolicy(text, `${flag('policyFile')} ${path}`)}
}

export function bucketPolicyState(settings: BucketSettings, bucket: string): PolicyState {
  const reading = settings.policy
  if (reading.state === 'configured')
    return {state: 'present', policy: parsePolicy(reading.value, `the bucket policy of ${bucket}`)}
  return reading.state === 'not-configured' ? {state: 'absent'} : {state: 'unreadable', reason: reading.reason}
}
