/**
 * Defaults of the bounds on one Kubecost call, shared by the client and the flags (kept apart from
 * the client so that parsing flags does not load the HTTP stack).
 */

/** Unless configured, a call may take this many read timeouts in all, retries and back-off included. */
export const DEADLINE_READ_TIMEOUTS = 10
export const DEFAULT_MAX_ENTRY_MIB = 64
export const DEFAULT_MAX_RESPONSE_MIB = 2048
export const MIB = 1024 * 1024
/** Same-origin redirects followed in one attempt; fetch's own default (20) is more than any sane setup needs. */
export const MAX_REDIRECTS = 5
