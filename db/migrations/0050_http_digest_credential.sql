-- An http-digest credential: user name and password an HTTP probe answers an RFC 7616 Digest
-- challenge with (the password never travels; only its hashes do).
ALTER TABLE credentials DROP CONSTRAINT credentials_kind_check;
ALTER TABLE credentials ADD CONSTRAINT credentials_kind_check
  CHECK (kind IN ('ssh-password', 'ssh-key', 'snmp-community', 'snmp-v3', 'http-basic', 'http-bearer', 'http-secret', 'http-digest'));
