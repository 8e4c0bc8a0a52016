import {randomBytes} from 'node:crypto'
import {constants, copyFile, lstat, mkdir, readdir, rename, rm} from 'node:fs/promises'
import {dirname, join, relative, resolve, sep} from 'node:path'

import {LocalIoError} from '../errors.js'
import {errnoOf, localIoError, makeDirectories} from '../local-io.js'
import {setting} from '../settings.js'
import type {CallOptions, Destination} from './destination.js'

/**
 * A local directory with the S3 layout; a file appears at its final path only complete (copy, then
 * rename), and only inside the directory: a symbolic link to a directory inside it is refused, not
 * written through (the root itself, and what lies above it, may be links: the operator chose them).
 */
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

      // Symbolic links are neither followed nor listed: put() never writes through one.
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
    await this.makeDirectoryOf(target)
    const temporary = join(dirname(target), `.${randomBytes(6).toString('hex')}.partial`)
    try {
      // Never through a link that happens to stand at the temporary name.
      await copyFile(file, temporary, constants.COPYFILE_EXCL)
      // A run stopped during the copy publishes nothing: the rename is the commit point.
      options.signal?.throwIfAborted()
      await rename(temporary, target)
    } catch (error) {
      await rm(temporary, {force: true})
      if (options.signal?.aborted) throw options.signal.reason
      throw localIoError(error, {action: 'write', path: target, place: 'output'})
    }
  }

  /** The directories from the root down to `target`'s, created where missing, none of them a link. */
  private async makeDirectoryOf(target: string): Promise<void> {
    let path = this.root
    try {
      await makeDirectories(path)
      for (const part of relative(this.root, dirname(target)).split(sep).filter(Boolean)) {
        path = join(path, part)
        let info = await lstat(path).catch(ignore('ENOENT'))
        if (!info) {
          // Another run may make it meanwhile.
          await mkdir(path).catch(ignore('EEXIST'))
          info = await lstat(path)
        }

        if (info.isSymbolicLink()) {
          throw new LocalIoError(
            `Could not write ${target}: ${path} is a symbolic link, and files are written only inside ${setting('outputDir')} ${this.root}`,
            undefined,
            {
              suggestions: [
                `Replace the link ${path} with a directory, or give the directory it points to as ${setting('outputDir')}.`,
              ],
            },
          )
        }
      }
    } catch (error) {
      // An error from the file system names the level that failed.
      const failed = (error as {path?: unknown}).path
      throw localIoError(error, {
        action: 'create the directory',
        path: typeof failed === 'string' ? failed : path,
        place: 'output',
      })
    }
  }
}

/** A rejection handler that turns the one errno expected into undefined. */
function ignore(errno: string): (error: unknown) => undefined {
  return error => {
    if (errnoOf(error) === errno) return undefined
    throw error
  }
}
