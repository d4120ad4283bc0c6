/**
 * Regular expressions from probe config (`body_regex`, `expect_output_regex`). They run against
 * target-controlled text (up to 1 MiB of an HTTP body), so they go through RE2's linear-time
 * engine (re2js, pure JS): no pattern can backtrack for minutes and stall a worker's event loop.
 * The syntax is RE2's (Perl-like: classes, groups, alternation, counted repetition, (?i) flags);
 * what needs backtracking — lookaround and backreferences — is rejected when the probe is saved.
 */
import { RE2JS } from 're2js';
import { z } from 'zod';

/** Longest pattern accepted, in characters: enough for any real check, small enough to compile fast. */
export const MAX_PATTERN_CHARS = 1024;

/** How a pattern's anchors behave: `lines` makes ^ and $ match at line boundaries (grep's semantics). */
export type PatternMode = 'text' | 'lines';

/** A compiled pattern; `test` runs in time linear in the input. */
export interface Pattern {
  test(input: string): boolean;
}

/** Compiles source with RE2; throws RE2's syntax error (which names the unsupported construct). */
export function compilePattern(source: string, mode: PatternMode = 'text'): Pattern {
  const compiled = RE2JS.compile(source, mode === 'lines' ? RE2JS.MULTILINE : 0);
  return { test: (input) => compiled.matcher(input).find() };
}

/** Why RE2 cannot compile source, or null when it can. */
export function describePatternProblem(source: string, mode: PatternMode = 'text'): string | null {
  try {
    compilePattern(source, mode);
    return null;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return `not a valid RE2 regular expression (lookaround and backreferences are not supported): ${message}`;
  }
}

/** The zod schema of a pattern field: length-capped and compiled once at validation. */
export function patternSchema(mode: PatternMode) {
  return z
    .string()
    .min(1)
    .max(MAX_PATTERN_CHARS)
    .superRefine((source, ctx) => {
      const problem = describePatternProblem(source, mode);
      if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
    });
}
