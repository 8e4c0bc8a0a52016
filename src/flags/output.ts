/** Log output. */
import {Flags} from '@oclif/core'

import {LOG_FORMATS, type LogFormat} from '../lib/log.js'
import {parseChoice} from '../lib/validate.js'
import {inGroup, input} from './common.js'

export const logFlags = inGroup('OUTPUT', {
  'log-format': Flags.custom<LogFormat>({
    ...input({flag: 'log-format', env: 'LOG_FORMAT'}, (value, n) => parseChoice(value, LOG_FORMATS, n)),
    description: 'log line format on stderr: text or json (one object per line)',
    default: 'text',
  })(),
})
