import {S3Client} from '@aws-sdk/client-s3'
import {SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {STSClient} from '@aws-sdk/client-sts'
import type {AwsCredentialIdentityProvider} from '@smithy/types'


/**
 * The only place that constructs AWS SDK clients. Credentials, region and endpoints come from the
 * SDK's standard chain (IRSA web identity, profiles, AWS_REGION, AWS_ENDPOINT_URL[_<SERVICE>]) unless
 * the caller injects them.
 */
export interface AwsClientOptions {
  region?: string
  credentials?: AwsCredentialIdentityProvider
}

export interface S3ClientOptions extends AwsClientOptions {
  /** An S3-compatible store (MinIO, Ceph): path-style addressing, checksums only when required. */
  endpoint?: string
}

function common(options: AwsClientOptions) {
  return {
    ...(options.region ? {region: options.region} : {}),
    ...(options.credentials ? {credentials: options.credentials} : {}),
  }
}

export function createS3Client(options: S3ClientOptions = {}): S3Client {
  return new S3Client({
    ...common(options),
    // The bucket often lives in another region (the pipeline account's) than the pod's AWS_REGION.
    followRegionRedirects: true,
    ...(options.endpoint
      ? {
          endpoint: options.endpoint,
          forcePathStyle: true,
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }
      : {}),
  })
}

export function createSecretsManagerClient(options: AwsClientOptions = {}): SecretsManagerClient {
  return new SecretsManagerClient(common(options))
}

export function createStsClient(options: AwsClientOptions = {}): STSClient {
  return new STSClient(common(options))
}
