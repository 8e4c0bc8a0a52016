/**
 * The flag groups the commands share, one module per concern under src/flags/. Each flag declares
 * the old exporter's environment variable as its fallback and validates once, naming the flag, the
 * variable and the bad value.
 */
export * from './flags/common.js'
export * from './flags/kubecost.js'
export * from './flags/aws.js'
export * from './flags/destination.js'
export * from './flags/output.js'
export * from './flags/days.js'
export * from './flags/limits.js'
export * from './flags/split.js'
export * from './flags/glue.js'
export * from './flags/quicksight.js'
export * from './flags/policy.js'
export * from './flags/iam.js'
