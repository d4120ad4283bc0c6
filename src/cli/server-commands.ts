/**
 * The first arguments that start Vigil itself (src/runtime.ts ROLES, plus `start` for all of them);
 * anything else is the command line client. Kept apart so main can decide without loading either.
 */
export const SERVER_COMMANDS = ['start', 'api', 'scheduler', 'worker'] as const;
