import {LocalIoError} from './lib/errors.js'
import {describeIoFailure, errnoOf} from './lib/local-io.js'

/**
 * Writes to stdout and stderr that fail end without a stack trace. Node.js reports them as an
 * exception from write() (a file or device: `--json > file` on a full disk gives ENOSPC) or as an
 * 'error' event (a pipe), and neither has a handler by default. After a failure nothing more is
 * written to that stream, and the run goes on to its end (cleanup included) with:
 * - a closed pipe (EPIPE: `| head -1`): nothing said, the run's own exit code, as CLIs do;
 * - any other failure of stdout: the LocalIoError `report` prints (on stderr), and exit 1 unless the
 *   run already failed with a code of its own;
 * - any other failure of stderr: nowhere left to say it; the same exit code.
 */
export function guardOutputStreams(report: (error: LocalIoError) => void): void {
  guard(process.stdout, error => {
    if (errnoOf(error) === 'EPIPE') return
    failed()
    report(
      new LocalIoError(`Could not write to standard output (${describeIoFailure(error)})`, errnoOf(error), {
        cause: error,
        suggestions: [
          errnoOf(error) === 'ENOSPC' || errnoOf(error) === 'EDQUOT'
            ? 'Free space where standard output is redirected, or redirect it elsewhere.'
            : 'Redirect standard output to a file or pipe that can be written.',
        ],
      }),
    )
  })
  guard(process.stderr, error => {
    if (errnoOf(error) !== 'EPIPE') failed()
  })
}

function failed(): void {
  if (!process.exitCode) process.exitCode = 1
}

function guard(stream: NodeJS.WriteStream, onFailure: (error: unknown) => void): void {
  let broken = false
  const fail = (error: unknown) => {
    if (broken) return
    broken = true
    onFailure(error)
    // Whoever waits for the stream to drain (oclif's flush before exit) would wait for ever.
    stream.emit('drain')
  }

  // oclif's own listener on stdout swallows EPIPE and rethrows everything else, uncaught.
  stream.removeAllListeners('error')
  stream.on('error', fail)
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean
  stream.write = (...args: unknown[]) => {
    if (!broken) {
      try {
        return write(...args)
      } catch (error) {
        fail(error)
      }
    }

    // Dropped: a caller waiting for its write to finish (oclif's flush) must not wait forever.
    const callback = args.findLast(a => typeof a === 'function')
    if (callback) process.nextTick(callback)
    return true
  }
}
