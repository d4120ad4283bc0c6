-- Webhooks: subscriptions to the event outbox (host_events), one delivery row per subscription and
-- event (the delivery log), and the dispatcher's cursor into the outbox.

CREATE TABLE webhooks (
  id uuid PRIMARY KEY,
  url text NOT NULL CHECK (url ~ '^https?://'),
  -- The HMAC signing key, sealed (AES-256-GCM) with VIGIL_SECRET_KEY and bound to the id, like
  -- credentials; NULL = deliveries are not signed.
  secret bytea,
  -- Filters on the event; an empty array matches every event.
  event_types text[] NOT NULL DEFAULT '{}',
  states text[] NOT NULL DEFAULT '{}',
  groups text[] NOT NULL DEFAULT '{}',
  enabled boolean NOT NULL DEFAULT true,
  -- The newest event when the subscription was created: only later events are sent to it.
  after_event_id bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  webhook_id uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  -- No foreign key: the log may outlive pruned events.
  event_id bigint NOT NULL,
  event_type text NOT NULL,
  -- The pg-boss job (queue vigil-webhooks) that delivers it; its start_after is the next attempt.
  job_id uuid NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  last_status_code integer,
  last_error text,
  last_latency_ms double precision,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_attempt_at timestamptz,
  delivered_at timestamptz,
  failed_at timestamptz,
  UNIQUE (webhook_id, event_id)
);
-- The delivery log: a subscription's deliveries, newest first.
CREATE INDEX webhook_deliveries_log_idx ON webhook_deliveries (webhook_id, id DESC);

-- One row: the last event the dispatcher has turned into deliveries. Starts at the newest event,
-- since no subscription can want an event older than itself.
CREATE TABLE webhook_dispatch_cursor (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  last_event_id bigint NOT NULL
);
INSERT INTO webhook_dispatch_cursor (last_event_id) SELECT COALESCE(max(id), 0) FROM host_events;
