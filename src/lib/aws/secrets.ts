import {GetSecretValueCommand, type SecretsManagerClient} from '@aws-sdk/client-secrets-manager'

import {type AwsCallContext, classifyAwsError} from './errors.js'

/** A secret's SecretString (undefined for a binary secret), with a failure classified and naming the secret. */
export async function readSecretString(
  client: SecretsManagerClient,
  name: string,
  context: Pick<AwsCallContext, 'identity' | 'timeout'> = {},
): Promise<string | undefined> {
  try {
    return (await client.send(new GetSecretValueCommand({SecretId: name}))).SecretString
  } catch (error) {
    throw classifyAwsError(error, {...context, action: 'secretsmanager:GetSecretValue', resource: `secret ${name}`})
  }
}
