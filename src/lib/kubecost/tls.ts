import {readFile} from 'node:fs/promises'

import {ConfigError, InvalidInputError, describeCause} from '../errors.js'
import {setting} from '../settings.js'

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/

export interface CaSource {
  file?: string
  /** `read` returns the secret's SecretString; it is called only when needed, so the SDK loads only then. */
  secret?: {name: string; read: () => Promise<string | undefined>}
}

/**
 * The PEM bundle to trust for Kubecost, from a file or from a Secrets Manager secret (fetched with
 * the pod's identity, kept in memory only). Its content never appears in a message.
 */
export async function loadCaBundle(source: CaSource): Promise<string | undefined> {
  if (source.file && source.secret) {
    throw new ConfigError(`Both ${setting('caCertFile')} and ${setting('caCertSecret')} are set; choose one`)
  }

  if (source.file) {
    let pem: string
    try {
      pem = await readFile(source.file, 'utf8')
    } catch (error) {
      throw InvalidInputError.of(
        'caCertFile',
        source.file,
        `cannot be read (${(error as NodeJS.ErrnoException).code ?? describeCause(error)})`,
      )
    }

    if (!PEM_CERTIFICATE.test(pem)) {
      throw InvalidInputError.of('caCertFile', source.file, 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)')
    }

    return pem
  }

  if (source.secret) {
    const {name, read} = source.secret
    const pem = await read()

    if (!pem || !PEM_CERTIFICATE.test(pem)) {
      throw InvalidInputError.of(
        'caCertSecret',
        name,
        "the secret's SecretString holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
        {
          suggestions: [
            "Store the CA bundle as plain PEM text in the secret's SecretString (not as JSON, not base64).",
          ],
        },
      )
    }

    return pem
  }

  return undefined
}
