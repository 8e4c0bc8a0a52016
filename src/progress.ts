import type {Logger} from './lib/log.js'
import type {ProgressEvent} from './lib/wait.js'

/**
 * Rendering the wait loop's progress events where the command runs: a live listr2 line on a
 * terminal, a log line per change of state (and a heartbeat) in a CronJob or a pipe, nothing under
 * --json. Always on stderr: stdout carries only results.
 */
export type ProgressMode = 'terminal' | 'log' | 'silent'

/** A log line at least this often while the state stays the same, so a long wait shows it is alive. */
const HEARTBEAT_MS = 60_000

export function progressMode(options: {json: boolean; isTTY: boolean; logFormat: 'text' | 'json'}): ProgressMode {
  if (options.json) return 'silent'
  return options.isTTY && options.logFormat === 'text' ? 'terminal' : 'log'
}

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`
const describe = (event: ProgressEvent) =>
  `${event.subject}: ${event.state}${event.detail ? ` (${event.detail})` : ''}, ${seconds(event.elapsedMs)}`

/**
 * Runs `work`, showing its progress events in `mode`; resolves or rejects as `work` does. A `work`
 * that resolves with a failure in it (a wait that says what it started before its error) names it
 * through `failure`, so the live line ends as failed, not done.
 */
export async function withProgress<T>(
  title: string,
  mode: ProgressMode,
  log: Logger,
  work: (report: (event: ProgressEvent) => void) => Promise<T>,
  failure?: (value: T) => Error | undefined,
): Promise<T> {
  if (mode === 'silent') return work(() => {})
  if (mode === 'log') {
    let last: {state: string; at: number} | undefined
    log.info(title)
    return work(event => {
      if (last?.state === event.state && event.elapsedMs - last.at < HEARTBEAT_MS) return
      last = {state: event.state, at: event.elapsedMs}
      log.info(describe(event))
    })
  }

  const {Listr, ListrLogger, ProcessOutput} = await import('listr2')
  const logger = () => new ListrLogger({processOutput: new ProcessOutput(process.stderr, process.stderr)})
  const result: {value?: T} = {}
  const tasks = new Listr(
    [
      {
        title,
        task: async (_, task) => {
          result.value = await work(event => {
            task.title = `${title} — ${describe(event)}`
          })
          task.title = title
          const failed = failure?.(result.value)
          if (failed) throw failed
        },
      },
    ],
    {
      exitOnError: true,
      rendererOptions: {logger: logger()},
      fallbackRendererOptions: {logger: logger()},
    },
  )
  try {
    await tasks.run()
  } catch (error) {
    // Drawn as failed; the value that carries the failure is still the result.
    if (!('value' in result) || !failure?.(result.value as T)) throw error
  }

  return result.value as T
}
