-- Notifications: channels (where a message goes), rules (which events go to which channels), the
-- delivery log (one row per message, its attempts and outcome) and the dispatcher's own cursor
-- into the event outbox (host_events), apart from the webhook dispatcher's.

CREATE TABLE notification_channels (
  id uuid PRIMARY KEY,
  name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
  type text NOT NULL CHECK (type IN ('email', 'slack', 'teams', 'pagerduty', 'webhook')),
  -- The channel's settings that are not secret (SMTP host and port, from, to, a webhook URL...).
  settings jsonb NOT NULL CHECK (jsonb_typeof(settings) = 'object'),
  -- The secret settings (SMTP password, Slack/Teams URL, PagerDuty routing key, signing key) as one
  -- JSON object, sealed (AES-256-GCM) with VIGIL_SECRET_KEY and bound to the id, like credentials.
  secrets bytea,
  -- Which secret fields are set (names only), so listing channels opens no secret.
  secret_fields text[] NOT NULL DEFAULT '{}',
  enabled boolean NOT NULL DEFAULT true,
  -- Messages per rolling minute; beyond it notifications are held for one summary (a digest).
  rate_limit_per_minute integer NOT NULL CHECK (rate_limit_per_minute BETWEEN 1 AND 1000),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE notification_rules (
  id uuid PRIMARY KEY,
  name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
  -- Filters on the event and its host; an empty array matches everything.
  event_types text[] NOT NULL DEFAULT '{}',
  states text[] NOT NULL DEFAULT '{}',
  groups text[] NOT NULL DEFAULT '{}',
  -- A host matches when it carries any of these tags.
  tags text[] NOT NULL DEFAULT '{}',
  host_ids uuid[] NOT NULL DEFAULT '{}',
  -- The same message (event kind, host or incident, state) is not sent twice within this.
  cooldown_seconds integer NOT NULL CHECK (cooldown_seconds BETWEEN 0 AND 604800),
  -- While an incident stays open (and unacknowledged), send it again this often; NULL = never.
  renotify_seconds integer CHECK (renotify_seconds BETWEEN 1 AND 604800),
  enabled boolean NOT NULL DEFAULT true,
  -- The newest event when the rule was created: only later events are notified.
  after_event_id bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE notification_rule_channels (
  rule_id uuid NOT NULL REFERENCES notification_rules (id) ON DELETE CASCADE,
  channel_id uuid NOT NULL REFERENCES notification_channels (id) ON DELETE CASCADE,
  PRIMARY KEY (rule_id, channel_id)
);
CREATE INDEX notification_rule_channels_channel_idx ON notification_rule_channels (channel_id);

CREATE TABLE notification_deliveries (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  channel_id uuid NOT NULL REFERENCES notification_channels (id) ON DELETE CASCADE,
  -- NULL for test sends and digests, or once the rule is deleted.
  rule_id uuid REFERENCES notification_rules (id) ON DELETE SET NULL,
  -- event: one event; renotify: an incident still open; digest: a summary of held ones; test.
  kind text NOT NULL CHECK (kind IN ('event', 'renotify', 'digest', 'test')),
  -- No foreign keys: the log outlives pruned events and incidents.
  event_id bigint,
  event_type text,
  incident_id uuid,
  host_id uuid,
  -- What the cooldown compares: the same key for the same rule and channel is "the same message".
  message_key text NOT NULL,
  -- What the message says, fixed when it was queued (src/notifications/message.ts); no secrets.
  message jsonb NOT NULL,
  -- pending: queued or retrying; held: rate-limited, waiting for the digest `digest_id`;
  -- digested: summed up in that digest once it went out; suppressed: not sent (maintenance,
  -- cooldown...), `last_error` says why.
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed', 'held', 'digested', 'suppressed')),
  digest_id bigint REFERENCES notification_deliveries (id) ON DELETE SET NULL,
  -- A digest stops taking held notifications once its job starts sending it.
  digest_closed_at timestamptz,
  -- The pg-boss job (queue vigil-notifications); NULL when nothing is sent for it.
  job_id uuid,
  attempts integer NOT NULL DEFAULT 0,
  last_status_code integer,
  last_error text,
  last_latency_ms double precision,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_attempt_at timestamptz,
  delivered_at timestamptz,
  failed_at timestamptz
);
-- The delivery log: a channel's deliveries, newest first.
CREATE INDEX notification_deliveries_log_idx ON notification_deliveries (channel_id, id DESC);
-- The rate limit counts a channel's messages of the last minute.
CREATE INDEX notification_deliveries_recent_idx ON notification_deliveries (channel_id, created_at) WHERE kind <> 'test' AND status NOT IN ('held', 'digested', 'suppressed');
-- Re-notification looks up the last message about an incident per rule and channel.
CREATE INDEX notification_deliveries_incident_idx ON notification_deliveries (incident_id, rule_id, channel_id, created_at DESC) WHERE incident_id IS NOT NULL;
-- Cooldown and re-notification look up the last message of a rule and channel by key.
CREATE INDEX notification_deliveries_key_idx ON notification_deliveries (rule_id, channel_id, message_key, created_at DESC);
CREATE INDEX notification_deliveries_digest_idx ON notification_deliveries (digest_id) WHERE digest_id IS NOT NULL;
CREATE INDEX notification_deliveries_open_digest_idx ON notification_deliveries (channel_id) WHERE kind = 'digest' AND digest_closed_at IS NULL;
-- Retention prunes finished rows by age.
CREATE INDEX notification_deliveries_finished_idx ON notification_deliveries (created_at) WHERE status NOT IN ('pending', 'held');

-- One row: the last event the notification dispatcher has looked at.
CREATE TABLE notification_dispatch_cursor (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  last_event_id bigint NOT NULL
);
INSERT INTO notification_dispatch_cursor (last_event_id) SELECT COALESCE(max(id), 0) FROM host_events;
