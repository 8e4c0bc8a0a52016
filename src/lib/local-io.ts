import {mkdir, stat} from 'node:fs/promises'
import {dirname, resolve} from 'node:path'

import {LocalIoError} from './errors.js'
import {setting} from './settings.js'

/**
 * Local file-system failures in words that say what to do. The work directory (under TMPDIR) holds
 * each day's file while it is written; in the CronJob it is the emptyDir mounted at /tmp.
 */

export type LocalPlace = 'work' | 'output'

export interface LocalIoContext {
  /** What was being done, e.g. "write", "create the work directory". */
  action: string
  path: string
  /** Why, when the path alone does not say, e.g. "to upload it to s3://bucket/key". */
  purpose?: string
  place: LocalPlace
  /** Bytes already written to the file when it failed, when known (a lower bound on what it needs). */
  bytesWritten?: number
}

const DESCRIPTIONS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOENT: 'the directory does not exist',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EPIPE: 'the reading end was closed',
  EISDIR: 'the path is a directory',
  EEXIST: 'the path already exists',
  EMFILE: 'too many open files',
  EIO: 'an input/output error from the device',
}

export function errnoOf(error: unknown): string | undefined {
  const code = (error as {code?: unknown} | undefined)?.code
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined
}

function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

function suggestion(errno: string | undefined, context: LocalIoContext): string {
  const where =
    context.place === 'work'
      ? 'the work directory (TMPDIR; in the CronJob, the emptyDir mounted at /tmp)'
      : setting('outputDir')
  switch (errno) {
    case 'ENOSPC':
    case 'EDQUOT': {
      const need = context.bytesWritten
        ? `; this day's file had reached ${megabytes(context.bytesWritten)} when it failed`
        : ''
      return context.place === 'work'
        ? `Free space in ${where}, point TMPDIR at a larger volume, or raise the emptyDir's sizeLimit (a day's file needs roughly 100–250 bytes per allocation${need}).`
        : `Free space in ${where} or choose another directory${need}.`
    }

    case 'EROFS': {
      return context.place === 'work'
        ? 'Point TMPDIR at a writable directory; with a read-only root file system, mount an emptyDir at /tmp.'
        : `Choose a writable ${setting('outputDir')}.`
    }

    case 'EACCES':
    case 'EPERM': {
      return `Make ${where} writable by this user${typeof process.getuid === 'function' ? ` (uid ${process.getuid()})` : ''}, or point it elsewhere.`
    }

    case 'ENOENT':
    case 'ENOTDIR': {
      return context.place === 'work'
        ? 'Point TMPDIR at an existing, writable directory.'
        : `Give an ${setting('outputDir')} that is a directory or can be created.`
    }

    default: {
      return `Check ${where}: it must be a writable directory with free space.`
    }
  }
}

/** The cause in words: `ENOSPC: no space left on the device`, or the message when there is no errno. */
export function describeIoFailure(error: unknown): string {
  const errno = errnoOf(error)
  return errno
    ? `${errno}: ${DESCRIPTIONS[errno] ?? 'system error'}`
    : String((error as Error | undefined)?.message ?? error)
}

/** A LocalIoError naming the path, the cause in words and what to do. */
export function localIoError(error: unknown, context: LocalIoContext): LocalIoError {
  if (error instanceof LocalIoError) return error
  const errno = errnoOf(error)
  const why = describeIoFailure(error)
  const purpose = context.purpose ? ` ${context.purpose}` : ''
  return new LocalIoError(`Could not ${context.action} ${context.path}${purpose} (${why})`, errno, {
    cause: error,
    suggestions: [suggestion(errno, context)],
  })
}

/**
 * `mkdir -p` that fails at the first level it cannot create, with that level's path and errno.
 * Node.js's recursive mkdir retries a level for as long as it answers ENOENT, and where the parent
 * exists and mkdir still answers ENOENT (anywhere under /proc) it spins at full CPU for ever.
 */
export async function makeDirectories(path: string): Promise<void> {
  const missing: string[] = []
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    try {
      await stat(dir)
      break
    } catch (error) {
      if (errnoOf(error) !== 'ENOENT' || dirname(dir) === dir) throw error
      missing.push(dir)
    }
  }

  for (const dir of missing.reverse()) {
    try {
      await mkdir(dir)
    } catch (error) {
      // Another run may have made it meanwhile; anything else at that path fails the next level.
      if (errnoOf(error) !== 'EEXIST') throw error
    }
  }
}
