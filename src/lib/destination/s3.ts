import {createReadStream} from 'node:fs'
import {stat} from 'node:fs/promises'

import {ListObjectsV2Command, PutObjectCommand, type S3Client} from '@aws-sdk/client-s3'

import {classifyAwsError} from '../aws/errors.js'
import type {Destination} from './destination.js'

/** An S3 bucket. PutObject is atomic: an object appears at its key only once fully uploaded. */
export class S3Destination implements Destination {
  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    /** Who the calls are made as, for access-denied messages. */
    private readonly identity?: string,
  ) {}

  get description(): string {
    return `s3://${this.bucket}`
  }

  locate(key: string): string {
    return `s3://${this.bucket}/${key}`
  }

  async listKeys(prefix: string): Promise<string[]> {
    const keys: string[] = []
    let token: string | undefined
    do {
      let page
      try {
        page = await this.client.send(
          new ListObjectsV2Command({Bucket: this.bucket, Prefix: prefix, ContinuationToken: token}),
        )
      } catch (error) {
        throw classifyAwsError(error, {action: 's3:ListBucket', resource: this.locate(prefix), identity: this.identity})
      }

      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key)
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
    return keys
  }

  async put(key: string, file: string): Promise<void> {
    try {
      const {size} = await stat(file)
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: createReadStream(file),
          ContentLength: size,
          ContentType: 'application/vnd.apache.parquet',
        }),
      )
    } catch (error) {
      throw classifyAwsError(error, {action: 's3:PutObject', resource: this.locate(key), identity: this.identity})
    }
  }
}
