-- Values (issue #20): templates are named sets of items (SNMP OIDs and table columns, SSH
-- commands, HTTP measurements) that a check collects besides its up/down verdict. Items are kept
-- as one validated JSON array (src/values/items.ts): a template is read whole, never queried by item.
CREATE TABLE value_templates (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL UNIQUE,
  description text NOT NULL DEFAULT '',
  -- SNMP sysObjectID prefixes the template fits (vendor auto-detect); empty for "any device".
  sys_object_ids text[] NOT NULL DEFAULT '{}',
  items jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Templates assigned to a host directly, and to a group (every host in it).
CREATE TABLE host_value_templates (
  host_id uuid NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
  template_id uuid NOT NULL REFERENCES value_templates (id) ON DELETE CASCADE,
  PRIMARY KEY (host_id, template_id)
);
CREATE INDEX host_value_templates_template ON host_value_templates (template_id);

CREATE TABLE group_value_templates (
  group_name text NOT NULL,
  template_id uuid NOT NULL REFERENCES value_templates (id) ON DELETE CASCADE,
  PRIMARY KEY (group_name, template_id)
);
CREATE INDEX group_value_templates_template ON group_value_templates (template_id);

-- The latest value of each item (and the previous raw counter, for rates), written by the worker
-- after each check that collected values; shown in the host's state. NULL when none collected.
ALTER TABLE hosts ADD COLUMN latest_values jsonb;
