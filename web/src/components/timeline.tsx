import type { Schemas } from '../api.ts';
import { ago, time } from '../format.ts';
import { StateBadge } from './state-badge.tsx';

export type Transition = Schemas['TransitionPage']['transitions'][number];

/** State transitions, newest first: when, from → to, and the error that caused it. */
export function Timeline({ transitions }: { transitions: Transition[] }) {
  if (transitions.length === 0) return <p class="muted">No state changes yet.</p>;
  return (
    <ol class="timeline" aria-label="State changes, newest first">
      {transitions.map((t) => (
        <li key={t.check_id} class={`timeline-item to-${t.to}`}>
          <time dateTime={t.time} title={time(t.time)}>
            {ago(t.time)}
          </time>
          <span class="transition">
            <StateBadge state={t.from} /> <span aria-label="to">→</span> <StateBadge state={t.to} />
          </span>
          {t.error_type && (
            <span class="error-text">
              <code>{t.error_type}</code> {t.error_message}
            </span>
          )}
        </li>
      ))}
    </ol>
  );
}
