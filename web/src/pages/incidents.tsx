import { useState } from 'preact/hooks';
import { api, bodyOf, can, type Incident, type Session } from '../api.ts';
import { Pager } from '../components/pager.tsx';
import { StateBadge } from '../components/state-badge.tsx';
import { Table } from '../components/table.tsx';
import { ago, time } from '../format.ts';
import { useLiveEvents, useLiveResync } from '../live.ts';
import { useLoad, useThrottled } from '../use-load.ts';

const PAGE_SIZE = 25;

/** Open incidents first, then recent ones; admins acknowledge from here. */
export function IncidentsPage({ session }: { session: Session }) {
  const open = useLoad(() => api.GET('/api/incidents', { params: { query: { status: 'open', limit: 100 } } }).then(bodyOf), []);
  const [stack, setStack] = useState<(string | undefined)[]>([undefined]);
  const before = stack[stack.length - 1];
  const recent = useLoad(() => api.GET('/api/incidents', { params: { query: { status: 'resolved', limit: PAGE_SIZE, before } } }).then(bodyOf), [before]);
  const [note, setNote] = useState<string | undefined>();
  const refresh = useThrottled(() => {
    open.reload();
    recent.reload();
  }, 1000);
  useLiveEvents((e) => e.type.startsWith('incident_') && refresh());
  useLiveResync(refresh);

  async function acknowledge(incident: Incident) {
    try {
      bodyOf(await api.POST('/api/incidents/{incident_id}/acknowledge', { params: { path: { incident_id: incident.id } } }));
      setNote(`Acknowledged the incident on ${incident.host_name}.`);
      open.reload();
    } catch (err) {
      setNote(`Could not acknowledge: ${(err as Error).message}`);
    }
  }

  const writer = can(session, 'write');
  return (
    <section>
      <h1>Incidents</h1>
      <p class="status-line" role="status">
        {note}
      </p>
      <h2>Open</h2>
      {open.error && <p class="error" role="alert">{open.error}</p>}
      <Table<Incident>
        caption="Open incidents"
        rows={open.data?.incidents ?? []}
        rowKey={(i) => i.id}
        empty={open.data ? 'No open incidents.' : 'Loading…'}
        rowProps={(i) => ({ 'data-incident-host': i.host_name })}
        columns={[
          { title: 'Host', cell: (i) => <a href={`/hosts/${i.host_id}`}>{i.host_name}</a> },
          { title: 'Now', cell: (i) => <StateBadge state={i.current_state} /> },
          { title: 'Opened', cell: (i) => <time dateTime={i.opened_at} title={time(i.opened_at)}>{ago(i.opened_at)}</time> },
          { title: 'Failures', cell: (i) => i.failure_count, class: 'num' },
          // Hosts behind it that its failure made UNREACHABLE: how far the outage reaches.
          { title: 'Unreachable behind it', cell: (i) => (i.unreachable_count > 0 ? `${i.unreachable_count} host(s)` : <span class="muted">none</span>), class: 'num' },
          { title: 'Last error', cell: (i) => (i.last_error_type ? <span><code>{i.last_error_type}</code> {i.last_error_message}</span> : '—') },
          {
            title: 'Acknowledged',
            cell: (i) =>
              i.acknowledged_at ? (
                <span>✓ by {i.acknowledged_by}</span>
              ) : writer ? (
                <button type="button" onClick={() => acknowledge(i)} aria-label={`Acknowledge the incident on ${i.host_name}`}>
                  Acknowledge
                </button>
              ) : (
                <span class="muted">not yet</span>
              ),
          },
        ]}
      />
      <h2>Resolved</h2>
      <Table<Incident>
        caption="Resolved incidents, newest first"
        rows={recent.data?.incidents ?? []}
        rowKey={(i) => i.id}
        empty={recent.data ? 'No resolved incidents.' : 'Loading…'}
        columns={[
          { title: 'Host', cell: (i) => <a href={`/hosts/${i.host_id}`}>{i.host_name}</a> },
          { title: 'Opened as', cell: (i) => <StateBadge state={i.trigger_state} /> },
          { title: 'Opened', cell: (i) => ago(i.opened_at) },
          { title: 'Resolved', cell: (i) => ago(i.resolved_at) },
          { title: 'Acknowledged by', cell: (i) => i.acknowledged_by ?? '—' },
        ]}
      />
      <Pager page={stack.length} hasPrev={stack.length > 1} hasNext={Boolean(recent.data?.next_cursor)} onPrev={() => setStack(stack.slice(0, -1))} onNext={() => setStack([...stack, recent.data!.next_cursor!])} />
    </section>
  );
}
