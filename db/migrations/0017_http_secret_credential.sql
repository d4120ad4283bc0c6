-- An http-secret credential holds one secret value (an API key, say) that an HTTP probe places in
-- a header, query parameter or body, so the secret is not part of the probe's public config.
ALTER TABLE credentials DROP CONSTRAINT credentials_kind_check;
ALTER TABLE credentials ADD CONSTRAINT credentials_kind_check
  CHECK (kind IN ('ssh-password', 'ssh-key', 'snmp-community', 'snmp-v3', 'http-basic', 'http-bearer', 'http-secret'));
