import {randomBytes} from 'node:crypto'
import {copyFile, mkdir, readdir, rename, rm} from 'node:fs/promises'
import {dirname, join, resolve, sep} from 'node:path'

import {localIoError} from '../local-io.js'
import type {CallOptions, Destination} from './destination.js'

/** A local directory with the S3 layout; a file appears at its final path only complete (copy, then rename). */
export class LocalDestination implements Destination {
  readonly root: string

  constructor(root: string) {
    this.root = resolve(root)
  }

  get description(): string {
    return this.root
  }

  locate(key: string): string {
    return join(this.root, ...key.split('/'))
  }

  async listKeys(prefix: string): Promise<string[]> {
    const start = this.locate(prefix)
    const keys: string[] = []
    const walk = async (dir: string): Promise<void> => {
      let entries
      try {
        entries = await readdir(dir, {withFileTypes: true})
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
        throw localIoError(error, {action: 'list', path: dir, place: 'output'})
      }

      for (const entry of entries) {
        const path = join(dir, entry.name)
        if (entry.isDirectory()) await walk(path)
        else if (entry.isFile())
          keys.push(
            path
              .slice(this.root.length + 1)
              .split(sep)
              .join('/'),
          )
      }
    }

    await walk(start)
    return keys.sort()
  }

  async put(key: string, file: string, options: CallOptions = {}): Promise<void> {
    const target = this.locate(key)
    const temporary = join(dirname(target), `.${randomBytes(6).toString('hex')}.partial`)
    let action = 'create the directory of'
    try {
      await mkdir(dirname(target), {recursive: true})
      action = 'write'
      await copyFile(file, temporary)
      // A run stopped during the copy publishes nothing: the rename is the commit point.
      options.signal?.throwIfAborted()
      await rename(temporary, target)
    } catch (error) {
      await rm(temporary, {force: true})
      if (options.signal?.aborted) throw options.signal.reason
      throw localIoError(error, {action, path: action === 'write' ? target : dirname(target), place: 'output'})
    }
  }
}
