-- hosts is small but every check updates its row twice (claim and result), and neither update can
-- be HOT (next_check_time and the state are indexed): at 2,000 checks/s that is ~4,000 dead row
-- versions a second in a 10,000-row table. With the default autovacuum settings (20 % of the table,
-- cost-throttled) the table and its indexes bloat over a long run and every claim and update slows.
-- Vacuum it early and unthrottled; leave room on each page for the new row versions.
ALTER TABLE hosts SET (
  autovacuum_vacuum_scale_factor = 0.02,
  autovacuum_vacuum_threshold = 1000,
  autovacuum_vacuum_cost_delay = 0,
  autovacuum_analyze_scale_factor = 0.05,
  fillfactor = 80
);
