-- API tokens: shown once at creation, stored only as a SHA-256 hash (tokens are 32 random bytes,
-- so a fast hash is enough: there is nothing to brute-force).
CREATE TABLE api_tokens (
  id uuid PRIMARY KEY,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
  scopes text[] NOT NULL CHECK (scopes <@ ARRAY['read', 'check', 'admin'] AND cardinality(scopes) > 0),
  token_hash bytea NOT NULL UNIQUE,
  -- The first characters of the token, to tell tokens apart in lists (not enough to use one).
  prefix text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  revoked_at timestamptz,
  last_used_at timestamptz
);
