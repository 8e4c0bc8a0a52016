/** QuickSight: the dataset, its refresh, and its daily schedule (refresh-dataset). */
import {Flags} from '@oclif/core'

import {parseAccountId} from '../lib/policy/principals.js'
import {DEFAULT_DATASET_ID, REFRESH_TYPES, type RefreshType} from '../lib/quicksight/refresh.js'
import {
  MIN_LOOKBACK_DAYS,
  type TimeOfDay,
  parseLookbackDays,
  parseTimeOfDay,
  parseTimezone,
} from '../lib/quicksight/schedule.js'
import {parseChoice, parseRegion, parseSeconds} from '../lib/validate.js'
import {awsCallFlags} from './aws.js'
import {input, pollFlag} from './common.js'

export const datasetFlags = {
  'dataset-id': Flags.string({
    env: 'QUICKSIGHT_DATASET_ID',
    description: "QuickSight dataset id (the original solution's eks_insights)",
    default: DEFAULT_DATASET_ID,
  }),
  'account-id': Flags.string({
    ...input({flag: 'account-id', env: 'QUICKSIGHT_ACCOUNT_ID'}, parseAccountId),
    description: "the QuickSight account (default: the caller's, from STS GetCallerIdentity)",
  }),
  region: Flags.string({
    ...input({flag: 'region', env: 'QUICKSIGHT_REGION'}, parseRegion),
    description:
      'the QuickSight region [default: AWS_REGION, then AWS_DEFAULT_REGION, then the region of the profile (AWS_PROFILE) in the shared config file]',
  }),
  ...awsCallFlags('QuickSight, Glue, STS'),
}

export const ingestionFlags = {
  type: Flags.custom<RefreshType>({
    ...input({flag: 'type', env: 'REFRESH_TYPE'}, (v, n) => parseChoice(v, REFRESH_TYPES, n)),
  })({
    description:
      'full re-reads the whole view; incremental re-reads only the look-back window (needs --configure-schedule once)',
    default: 'full',
  }),
  wait: Flags.boolean({
    env: 'REFRESH_WAIT',
    allowNo: true,
    default: true,
    description: 'wait for the ingestion to end (--no-wait: start or find it and return)',
  }),
  timeout: Flags.custom<number>({...input({flag: 'timeout', env: 'REFRESH_TIMEOUT'}, parseSeconds)})({
    description: 'how long to wait for the ingestion, in seconds (it carries on in QuickSight after that)',
    default: 3_600_000,
    defaultHelp: async () => '3600',
  }),
  'poll-ms': pollFlag,
}

export const refreshScheduleFlags = {
  'configure-schedule': Flags.boolean({
    env: 'CONFIGURE_SCHEDULE',
    description: 'set the incremental refresh window and the daily refresh schedule instead of refreshing now',
  }),
  'lookback-days': Flags.custom<number>({...input({flag: 'lookback-days', env: 'LOOKBACK_DAYS'}, parseLookbackDays)})({
    description: `incremental refresh look-back window on window.start, in days (at least ${MIN_LOOKBACK_DAYS})`,
    default: MIN_LOOKBACK_DAYS,
  }),
  'schedule-time': Flags.custom<TimeOfDay>({...input({flag: 'schedule-time', env: 'SCHEDULE_TIME'}, parseTimeOfDay)})({
    description: 'time of day of the daily refresh, HH:MM in --timezone',
    default: {hour: 3, minute: 0},
    defaultHelp: async () => '03:00',
  }),
  timezone: Flags.string({
    ...input({flag: 'timezone', env: 'SCHEDULE_TIMEZONE'}, parseTimezone),
    description: 'time zone of --schedule-time (IANA name)',
    default: 'UTC',
  }),
  crawler: Flags.string({
    env: 'GLUE_CRAWLER',
    description: 'Glue crawler whose daily schedule the refresh must follow by two hours',
    default: 'kubecost_crawler',
  }),
}
