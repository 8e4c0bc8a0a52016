import {randomBytes} from 'node:crypto'
import {copyFile, mkdir, readdir, rename, rm} from 'node:fs/promises'
import {dirname, join, resolve, sep} from 'node:path'

import {DestinationError, describeCause} from '../errors.js'
import type {Destination} from './destination.js'

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
        throw new DestinationError(`Could not list ${dir}: ${describeCause(error)}`, {cause: error})
      }

      for (const entry of entries) {
        const path = join(dir, entry.name)
        if (entry.isDirectory()) await walk(path)
        else if (entry.isFile()) keys.push(path.slice(this.root.length + 1).split(sep).join('/'))
      }
    }

    await walk(start)
    return keys.sort()
  }

  async put(key: string, file: string): Promise<void> {
    const target = this.locate(key)
    const temporary = join(dirname(target), `.${randomBytes(6).toString('hex')}.partial`)
    try {
      await mkdir(dirname(target), {recursive: true})
      await copyFile(file, temporary)
      await rename(temporary, target)
    } catch (error) {
      await rm(temporary, {force: true})
      throw new DestinationError(`Could not write ${target}: ${describeCause(error)}`, {
        cause: error,
        suggestions: ['Check that --output-dir (OUTPUT_DIR) is writable and has free space.'],
      })
    }
  }
}
