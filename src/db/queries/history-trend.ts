import type { Queryable } from '../pool.ts';

/** Response-time statistics of one time bucket; the statistics are null for an empty bucket. */
export interface TrendBucket {
  bucket_start: Date;
  count: number;
  failures: number;
  avg: number | null;
  p95: number | null;
  min: number | null;
  max: number | null;
}

/**
 * A host's checks in [from, to) grouped into buckets of `bucketSeconds`, aligned to multiples of
 * the width since the Unix epoch (date_bin), so the same bucket means the same interval in every
 * request. Every bucket overlapping the range is returned, empty ones included, oldest first.
 * Reads history_host_time_idx for the range; the aggregation happens in PostgreSQL.
 */
export async function historyTrend(db: Queryable, hostId: string, r: { from: Date; to: Date; bucketSeconds: number }): Promise<TrendBucket[]> {
  const { rows } = await db.query<TrendBucket>(
    `WITH stats AS (
       SELECT date_bin(make_interval(secs => $2), check_time, 'epoch') AS bucket_start,
              count(*)::int AS count,
              (count(*) FILTER (WHERE NOT success))::int AS failures,
              avg(response_time_ms) AS avg,
              percentile_cont(0.95) WITHIN GROUP (ORDER BY response_time_ms) AS p95,
              min(response_time_ms) AS min,
              max(response_time_ms) AS max
         FROM host_monitoring_history
        WHERE host_id = $1 AND check_time >= $3 AND check_time < $4
        GROUP BY 1
     ),
     buckets AS (
       SELECT generate_series(date_bin(make_interval(secs => $2), $3::timestamptz, 'epoch'),
                              $4::timestamptz - interval '1 microsecond',
                              make_interval(secs => $2)) AS bucket_start
     )
     SELECT b.bucket_start, COALESCE(s.count, 0) AS count, COALESCE(s.failures, 0) AS failures, s.avg, s.p95, s.min, s.max
       FROM buckets b LEFT JOIN stats s USING (bucket_start)
      ORDER BY b.bucket_start`,
    [hostId, r.bucketSeconds, r.from, r.to],
  );
  return rows;
}

/** How many buckets {@link historyTrend} returns for a range (the same arithmetic, done before asking). */
export function trendBucketCount(r: { from: Date; to: Date; bucketSeconds: number }): number {
  const widthMs = r.bucketSeconds * 1000;
  const firstStartMs = Math.floor(r.from.getTime() / widthMs) * widthMs;
  return Math.ceil((r.to.getTime() - firstStartMs) / widthMs);
}
