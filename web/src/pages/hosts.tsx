import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { api, bodyOf, can, type Host, type HostState, type Session } from '../api.ts';
import { Pager } from '../components/pager.tsx';
import { FlappingBadge, StateBadge, STATES, stateLabel } from '../components/state-badge.tsx';
import { Table, type Column } from '../components/table.tsx';
import { ago, ms } from '../format.ts';
import { useLiveEvents, useLiveResync } from '../live.ts';
import { navigate } from '../router.ts';
import { useLoad, useThrottled } from '../use-load.ts';

const PAGE_SIZE = 50;
const SORTS = { name: 'Name', state: 'Worst state first', '-last_check': 'Recently checked first', last_check: 'Least recently checked first' } as const;
type Sort = keyof typeof SORTS;
/** Bulk writes run a few at a time: a hundred selected hosts must not open a hundred requests. */
const BULK_CONCURRENCY = 4;

interface Filters {
  state?: HostState;
  group?: string;
  tag?: string;
  maintenance?: 'true' | 'false';
  q?: string;
  sort: Sort;
}

function filtersOf(query: URLSearchParams): Filters {
  const state = query.get('state');
  const maintenance = query.get('maintenance');
  const sort = query.get('sort') ?? 'name';
  return {
    state: (STATES as readonly string[]).includes(state ?? '') ? (state as HostState) : undefined,
    group: query.get('group') || undefined,
    tag: query.get('tag') || undefined,
    maintenance: maintenance === 'true' || maintenance === 'false' ? maintenance : undefined,
    q: query.get('q') || undefined,
    sort: sort in SORTS ? (sort as Sort) : 'name',
  };
}

function searchOf(f: Filters): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v && !(k === 'sort' && v === 'name')) params.set(k, v);
  const text = params.toString();
  return text ? `?${text}` : '';
}

/**
 * The host list: server-side filtering, sorting and cursor paging (the fleet never comes to the
 * browser), live state changes in place, and bulk maintenance/enable for admins.
 */
export function HostsPage({ query, session }: { query: URLSearchParams; session: Session }) {
  const filters = filtersOf(query);
  const key = searchOf(filters);
  // Cursors of the pages before this one, so Previous works with forward-only cursors.
  const [cursors, setCursors] = useState<{ key: string; stack: (string | undefined)[] }>({ key, stack: [undefined] });
  const stack = cursors.key === key ? cursors.stack : [undefined];
  const after = stack[stack.length - 1];
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [status, setStatus] = useState<string | undefined>();
  const page = useLoad(
    () => api.GET('/api/hosts', { params: { query: { ...filters, limit: PAGE_SIZE, after } } }).then(bodyOf),
    [key, after],
  );
  // Live state changes of visible rows, applied over the fetched page while newer than what it says.
  const [changed, setChanged] = useState<Record<string, { state: HostState; at: string }>>({});
  const refresh = useThrottled(page.reload, 1000);
  useLiveEvents((e) => {
    const visible = page.data?.hosts.some((h) => h.id === e.host.id) ?? false;
    // Flapping and maintenance windows change a visible row's badges and tags: fetch the page again.
    if (e.type !== 'state_changed' || !e.to_state) return void (visible && e.type !== 'check_not_run' && refresh());
    // Shown at once on a visible row; the throttled reload then brings filters and order up to date.
    if (visible) setChanged((c) => ({ ...c, [e.host.id]: { state: e.to_state as HostState, at: e.occurred_at } }));
    refresh();
  }, [page.data]);
  useLiveResync(refresh);

  const hosts = (page.data?.hosts ?? []).map((h) => {
    const live = changed[h.id];
    return live && (!h.last_state_change || Date.parse(live.at) > Date.parse(h.last_state_change)) ? { ...h, monitoring_state: live.state, last_state_change: live.at } : h;
  });
  const setFilter = (patch: Partial<Filters>) => {
    setChanged({});
    setSelected(new Set());
    navigate(`/hosts${searchOf({ ...filters, ...patch })}`, true);
  };
  const writer = can(session, 'write');

  async function bulk(label: string, patch: { maintenance?: boolean; enabled?: boolean }) {
    const ids = [...selected];
    setStatus(`${label}: ${ids.length} host(s)…`);
    const failures: string[] = [];
    for (let i = 0; i < ids.length; i += BULK_CONCURRENCY) {
      await Promise.all(
        ids.slice(i, i + BULK_CONCURRENCY).map((id) =>
          api.PATCH('/api/hosts/{host_id}', { params: { path: { host_id: id } }, body: patch }).then(bodyOf).catch((err: Error) => failures.push(err.message)),
        ),
      );
    }
    setStatus(failures.length ? `${label}: ${ids.length - failures.length} done, ${failures.length} failed (${failures[0]})` : `${label}: done for ${ids.length} host(s)`);
    setSelected(new Set());
    page.reload();
  }

  const columns: Column<Host>[] = [
    ...(writer
      ? [
          {
            title: (
              <input
                type="checkbox"
                aria-label="Select every host on this page"
                checked={hosts.length > 0 && hosts.every((h) => selected.has(h.id))}
                onChange={(e) => setSelected((e.target as HTMLInputElement).checked ? new Set(hosts.map((h) => h.id)) : new Set())}
              />
            ),
            cell: (h: Host) => (
              <input
                type="checkbox"
                aria-label={`Select ${h.name}`}
                checked={selected.has(h.id)}
                onChange={(e) => {
                  const next = new Set(selected);
                  if ((e.target as HTMLInputElement).checked) next.add(h.id);
                  else next.delete(h.id);
                  setSelected(next);
                }}
              />
            ),
          },
        ]
      : []),
    { title: 'Host', cell: (h) => <HostName host={h} /> },
    { title: 'State', cell: (h) => <><StateBadge state={h.monitoring_state} /><FlappingBadge flapping={h.flapping} percent={h.flap_percent} /></> },
    { title: 'Since', cell: (h) => ago(h.last_state_change, 'no change yet') },
    { title: 'Last check', cell: (h) => ago(h.last_check) },
    { title: 'Response', cell: (h) => ms(h.response_time_ms), class: 'num' },
    {
      title: 'Last error',
      // The message on screen (one clipped line, whole on hover): a tooltip alone reaches no keyboard or phone user.
      cell: (h) =>
        h.last_error_type ? (
          <span class="error-cell" title={h.last_error_message ?? ''}>
            <code>{h.last_error_type}</code>
            {h.last_error_message && <span class="muted small clip">{h.last_error_message}</span>}
          </span>
        ) : (
          <span class="muted">—</span>
        ),
    },
    { title: 'Group', cell: (h) => h.group ?? <span class="muted">—</span> },
  ];

  return (
    <section>
      <h1>Hosts</h1>
      <form class="filters" role="search" aria-label="Filter hosts" onSubmit={(e) => e.preventDefault()}>
        <Field id="filter-state" label="State">
          <select id="filter-state" value={filters.state ?? ''} onChange={(e) => setFilter({ state: ((e.target as HTMLSelectElement).value || undefined) as HostState | undefined })}>
            <option value="">Any</option>
            {STATES.map((s) => (
              <option key={s} value={s}>
                {stateLabel(s)}
              </option>
            ))}
          </select>
        </Field>
        <TextFilter label="Name or address contains" value={filters.q} onCommit={(q) => setFilter({ q })} />
        <TextFilter label="Group" value={filters.group} onCommit={(group) => setFilter({ group })} />
        <TextFilter label="Tag" value={filters.tag} onCommit={(tag) => setFilter({ tag })} />
        <Field id="filter-maintenance" label="Maintenance">
          <select id="filter-maintenance" value={filters.maintenance ?? ''} onChange={(e) => setFilter({ maintenance: ((e.target as HTMLSelectElement).value || undefined) as Filters['maintenance'] })}>
            <option value="">Any</option>
            <option value="true">In maintenance</option>
            <option value="false">Not in maintenance</option>
          </select>
        </Field>
        <Field id="filter-sort" label="Sort">
          <select id="filter-sort" value={filters.sort} onChange={(e) => setFilter({ sort: (e.target as HTMLSelectElement).value as Sort })}>
            {Object.entries(SORTS).map(([value, text]) => (
              <option key={value} value={value}>
                {text}
              </option>
            ))}
          </select>
        </Field>
      </form>
      {writer && (
        <div class="bulk" role="group" aria-label="Actions on selected hosts">
          <span>{selected.size} selected</span>
          <button type="button" disabled={selected.size === 0} onClick={() => bulk('Maintenance on', { maintenance: true })}>
            Maintenance on
          </button>
          <button type="button" disabled={selected.size === 0} onClick={() => bulk('Maintenance off', { maintenance: false })}>
            Maintenance off
          </button>
          <button type="button" disabled={selected.size === 0} onClick={() => bulk('Enable', { enabled: true })}>
            Enable
          </button>
          <button type="button" disabled={selected.size === 0} onClick={() => bulk('Disable', { enabled: false })}>
            Disable
          </button>
        </div>
      )}
      <p class="status-line" role="status">
        {status}
      </p>
      {page.error && (
        <p class="error" role="alert">
          Could not load hosts: {page.error}
        </p>
      )}
      <Table caption="Hosts" columns={columns} rows={hosts} rowKey={(h) => h.id} empty={page.data ? 'No hosts match these filters.' : 'Loading…'} rowProps={(h) => ({ 'data-host': h.name, 'data-state': h.monitoring_state })} />
      <Pager
        page={stack.length}
        hasPrev={stack.length > 1}
        hasNext={Boolean(page.data?.next_cursor)}
        onPrev={() => setCursors({ key, stack: stack.slice(0, -1) })}
        onNext={() => setCursors({ key, stack: [...stack, page.data!.next_cursor!] })}
      />
    </section>
  );
}

function HostName({ host }: { host: Host }) {
  return (
    <span class="host-name">
      <a href={`/hosts/${host.id}`}>{host.name}</a>
      <span class="muted small">{host.address}</span>
      {host.maintenance && <span class="tag">maintenance</span>}
      {!host.enabled && <span class="tag">disabled</span>}
    </span>
  );
}

/** A text filter applied on Enter or when the field loses focus (not on every key: each is a request). */
function TextFilter(props: { label: string; value: string | undefined; onCommit: (v: string | undefined) => void }) {
  const commit = (e: Event) => {
    const v = (e.target as HTMLInputElement).value.trim() || undefined;
    if (v !== props.value) props.onCommit(v);
  };
  const id = `filter-${props.label.toLowerCase().replace(/\W+/g, '-')}`;
  return (
    <Field id={id} label={props.label}>
      <input id={id} type="search" value={props.value ?? ''} onChange={commit} onKeyDown={(e) => e.key === 'Enter' && commit(e)} />
    </Field>
  );
}

/** A labelled control: the label names only the control (not its options). */
function Field(props: { id: string; label: string; children: ComponentChildren }) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.children}
    </div>
  );
}
