import {lstat, mkdtemp, readdir, rm} from 'node:fs/promises'
import {join} from 'node:path'

import {localIoError} from './local-io.js'
import type {Logger} from './log.js'

/** `mkdtemp` adds six characters to this prefix; only directories of exactly that shape are ours. */
export const WORK_DIR_PREFIX = 'kubecost-cid-'
const WORK_DIR = /^kubecost-cid-[A-Za-z0-9]{6}$/

/** A run takes minutes; a work directory a day old belongs to a run that was killed (SIGKILL, OOM, node loss). */
export const STALE_AFTER_MS = 24 * 60 * 60 * 1000

/**
 * Removes work directories that killed runs left in `root`: ours by name, owned by this user, and
 * untouched for a day. Best effort: what cannot be removed is left for the next run.
 */
export async function sweepStaleWorkDirs(root: string, logger: Logger, now = Date.now()): Promise<number> {
  let names: string[]
  try {
    names = await readdir(root)
  } catch {
    return 0 // creating the new work directory reports a missing or unreadable root properly
  }

  const uid = typeof process.getuid === 'function' ? process.getuid() : undefined
  let removed = 0
  for (const name of names) {
    if (!WORK_DIR.test(name)) continue
    const path = join(root, name)
    try {
      const info = await lstat(path)
      if (!info.isDirectory() || (uid !== undefined && info.uid !== uid) || now - info.mtimeMs < STALE_AFTER_MS)
        continue
      await rm(path, {recursive: true, force: true})
      removed++
    } catch (error) {
      logger.debug(`Could not remove stale work directory ${path}: ${(error as Error).message}`)
    }
  }

  return removed
}

/** The run's work directory under `root`, after sweeping what killed runs left there. */
export async function createWorkDir(root: string, logger: Logger): Promise<string> {
  const swept = await sweepStaleWorkDirs(root, logger)
  if (swept > 0)
    logger.info(
      `Removed ${swept} stale work director${swept === 1 ? 'y' : 'ies'} left in ${root} by earlier runs that were killed`,
    )
  try {
    return await mkdtemp(join(root, WORK_DIR_PREFIX))
  } catch (error) {
    // Not one day could be written: the run fails as a whole.
    throw localIoError(error, {action: 'create the work directory in', path: root, place: 'work'})
  }
}
