-- Check job ids that grow with time (the layout of UUID version 7: 48 bits of Unix milliseconds,
-- then random bits). pg-boss's group-aware fetch ranks one group's candidates by job id, not by
-- age, so with random ids a job queued first could lose its group's slot to each newer sibling for
-- as long as siblings kept coming. With these ids that rank is the order the jobs were queued in.
-- PostgreSQL 18 has uuidv7(); this works on every version Vigil supports.
CREATE FUNCTION vigil_time_ordered_uuid() RETURNS uuid
LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
  SELECT encode(
    set_bit(set_bit(
      overlay(uuid_send(gen_random_uuid()) PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6),
    52, 1), 53, 1),
  'hex')::uuid
$$;
