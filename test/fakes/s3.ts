/**
 * s3rver, a real S3-compatible HTTP server, on a random loopback port with its own temporary
 * directory. Needs NODE_OPTIONS=--openssl-legacy-provider (its pagination tokens use DES), which
 * `npm test` sets.
 */
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {S3Client} from '@aws-sdk/client-s3'
import S3rver from 's3rver'

export const TEST_CREDENTIALS = {accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER'}

export interface S3Fake {
  endpoint: string
  /** A client configured the way `--s3-endpoint` configures the CLI's. */
  client: S3Client
  /** Environment for a CLI child process to reach this server. */
  env: Record<string, string>
  close(): Promise<void>
}

/** A client configured the way `--s3-endpoint` configures the CLI's, with the test credentials. */
export function testClient(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: TEST_CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  })
}

/** Environment for a CLI child process to reach a fake S3 with the test credentials. */
export const TEST_ENV: Record<string, string> = {
  AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
  AWS_REGION: 'us-east-1',
}

export async function startS3(buckets: string[]): Promise<S3Fake> {
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'))
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: buckets.map(name => ({name})),
  })
  const {port} = await server.run()
  const endpoint = `http://127.0.0.1:${port}`
  const client = testClient(endpoint)
  return {
    endpoint,
    client,
    env: TEST_ENV,
    async close() {
      client.destroy()
      await server.close()
      await rm(directory, {recursive: true, force: true})
    },
  }
}
