-- Browser sessions for the dashboard: a browser signs in once with an API token and then holds an
-- HttpOnly cookie (EventSource cannot send an Authorization header). A session is bound to its
-- token: revoking or expiring the token ends it, because every lookup joins the token row.
CREATE TABLE web_sessions (
  -- SHA-256 of the cookie's random value; the value itself is never stored.
  id_hash bytea PRIMARY KEY,
  -- The API token signed in with; NULL for the VIGIL_ADMIN_TOKEN from the environment.
  token_id uuid REFERENCES api_tokens (id) ON DELETE CASCADE,
  -- For VIGIL_ADMIN_TOKEN sessions: the hash of that token, so changing the variable ends them.
  env_token_hash bytea,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  CHECK ((token_id IS NULL) <> (env_token_hash IS NULL))
);

-- Revocation deletes through the foreign key; expired sessions are swept by token id lookups.
CREATE INDEX web_sessions_token_id ON web_sessions (token_id);
CREATE INDEX web_sessions_expires_at ON web_sessions (expires_at);
