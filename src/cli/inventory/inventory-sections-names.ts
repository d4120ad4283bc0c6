/**
 * The inventory file's sections besides hosts and groups, and how the diff names them. Kept free
 * of imports: the command line's help loads it, the API's schemas load only when a file is read.
 */
export const SECTIONS = ['policies', 'maintenance_windows', 'notification_channels', 'notification_rules'] as const;
export type Section = (typeof SECTIONS)[number];

/** One item of each section, as a diff line names it. */
export const ITEM_NAMES: Record<Section, string> = {
  policies: 'policy',
  maintenance_windows: 'window',
  notification_channels: 'channel',
  notification_rules: 'rule',
};

/** Each section in the summary line. */
export const SECTION_TITLES: Record<Section, string> = {
  policies: 'policies',
  maintenance_windows: 'maintenance windows',
  notification_channels: 'channels',
  notification_rules: 'rules',
};
