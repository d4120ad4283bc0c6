-- What a host's probes keep between two checks: the snmp-table probe's last counter values, so
-- "ifInErrors grew by at most N since the last check" can be judged. Written by the worker after
-- a check whose probes returned memory; read with the host when it is next checked. Never shown
-- by the API and never part of history. NULL for hosts whose probes keep nothing.
ALTER TABLE hosts ADD COLUMN probe_memory jsonb;
