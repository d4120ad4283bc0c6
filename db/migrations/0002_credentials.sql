-- Shared credentials, their secrets encrypted at rest (AES-256-GCM, key outside the database),
-- and which hosts use which, so the database itself refuses to delete a credential in use.

CREATE TABLE credentials (
  id uuid PRIMARY KEY,
  name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 255),
  kind text NOT NULL CHECK (kind IN ('ssh-password', 'ssh-key', 'snmp-community', 'snmp-v3', 'http-basic', 'http-bearer')),
  -- Fields that are not secret (username, SNMPv3 level and protocols), readable by the API.
  public jsonb NOT NULL DEFAULT '{}',
  -- iv (12 bytes) || auth tag (16 bytes) || ciphertext of the secret fields as JSON; the
  -- credential id is the additional authenticated data, so a ciphertext cannot be moved to another row.
  secret bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE host_credentials (
  host_id uuid NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
  credential_id uuid NOT NULL REFERENCES credentials (id) ON DELETE RESTRICT,
  PRIMARY KEY (host_id, credential_id)
);
CREATE INDEX host_credentials_credential_idx ON host_credentials (credential_id);

-- One row: a value encrypted with the secret key, so a start with the wrong key fails clearly
-- instead of decrypting garbage later.
CREATE TABLE secret_key_check (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  sealed bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- SSH host key trusted on first use (OpenSSH SHA256 fingerprint form).
ALTER TABLE hosts ADD COLUMN ssh_host_key_sha256 text;
