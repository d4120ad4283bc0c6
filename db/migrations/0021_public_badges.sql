-- Hosts and groups whose status badge (SVG) may be fetched without a token, for READMEs and wikis.
-- Nothing is public unless listed here; the badge shows only the host's name and state.
CREATE TABLE public_badges (
  host_id uuid REFERENCES hosts (id) ON DELETE CASCADE,
  group_name text CHECK (length(group_name) BETWEEN 1 AND 255),
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((host_id IS NULL) <> (group_name IS NULL))
);

CREATE UNIQUE INDEX public_badges_host ON public_badges (host_id) WHERE host_id IS NOT NULL;
CREATE UNIQUE INDEX public_badges_group ON public_badges (group_name) WHERE group_name IS NOT NULL;
