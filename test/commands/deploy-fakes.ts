/** The fakes deploy-glue talks to (s3rver for the bucket listing, Glue, Athena), started around each test of a suite. */
import {after, afterEach, before, beforeEach} from 'node:test'

import {AthenaFake} from '../fakes/athena.js'
import {GlueFake} from '../fakes/glue.js'
import {type S3Fake, TEST_ENV, startS3} from '../fakes/s3.js'
import {runCli} from '../helpers.js'

export const BUCKET = 'kubecost-data-111122223333'
export const ROLE = 'arn:aws:iam::111122223333:role/kubecost_glue_crawler_role'

export interface DeployFakes {
  s3: S3Fake
  glue: GlueFake
  athena: AthenaFake
  /** Runs deploy-glue on BUCKET against the fakes. */
  deploy(args: string[], env?: Record<string, string>): ReturnType<typeof runCli>
}

/** Registers the suite's hooks: one s3rver for the suite, a fresh Glue and Athena (with a result location in primary) per test. */
export function useDeployFakes(): DeployFakes {
  const fakes = {
    deploy: async (args: string[], env: Record<string, string> = {}) =>
      runCli(['deploy-glue', '--bucket', BUCKET, '--s3-endpoint', fakes.s3.endpoint, ...args], {
        ...TEST_ENV,
        ...fakes.glue.env,
        ...fakes.athena.env,
        ...env,
      }),
  } as DeployFakes
  before(async () => {
    fakes.s3 = await startS3([BUCKET])
  })
  after(() => fakes.s3.close())
  beforeEach(async () => {
    fakes.glue = await GlueFake.start()
    fakes.athena = await AthenaFake.start({primaryOutput: 's3://query-results-111122223333/'})
  })
  afterEach(async () => {
    await fakes.glue.close()
    await fakes.athena.close()
  })
  return fakes
}
