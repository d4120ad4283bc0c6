/**
 * The Prometheus remote-write 1.0 wire format: a WriteRequest protobuf, snappy block-compressed.
 * The message definitions are those of prometheus/prompb (types.proto, remote.proto), built with
 * protobufjs's reflection so no generated code or .proto file ships.
 */
import protobuf from 'protobufjs';
import SnappyJS from 'snappyjs';

const root = protobuf.Root.fromJSON({
  nested: {
    prometheus: {
      nested: {
        WriteRequest: { fields: { timeseries: { rule: 'repeated', type: 'TimeSeries', id: 1 } } },
        TimeSeries: { fields: { labels: { rule: 'repeated', type: 'Label', id: 1 }, samples: { rule: 'repeated', type: 'Sample', id: 2 } } },
        Label: { fields: { name: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        Sample: { fields: { value: { type: 'double', id: 1 }, timestamp: { type: 'int64', id: 2 } } },
      },
    },
  },
});
const WriteRequest = root.lookupType('prometheus.WriteRequest');

/** One series with its samples; labels include `__name__`. */
export interface TimeSeries {
  labels: Record<string, string>;
  samples: { value: number; timestampMs: number }[];
}

/** The HTTP body of a remote-write request: labels sorted by name, as the protocol requires. */
export function encodeWriteRequest(series: TimeSeries[]): Uint8Array {
  const timeseries = series.map((s) => ({
    labels: Object.keys(s.labels).sort().map((name) => ({ name, value: s.labels[name]! })),
    samples: s.samples.map((x) => ({ value: x.value, timestamp: x.timestampMs })),
  }));
  const bytes = WriteRequest.encode(WriteRequest.create({ timeseries })).finish();
  return SnappyJS.compress(bytes);
}

/** Decodes a body made by {@link encodeWriteRequest} (tests, and a receiver of our own if ever needed). */
export function decodeWriteRequest(body: Uint8Array): TimeSeries[] {
  const message = WriteRequest.toObject(WriteRequest.decode(SnappyJS.uncompress(body)), { longs: Number }) as {
    timeseries?: { labels?: { name: string; value: string }[]; samples?: { value: number; timestamp: number }[] }[];
  };
  return (message.timeseries ?? []).map((t) => ({
    labels: Object.fromEntries((t.labels ?? []).map((l) => [l.name, l.value])),
    samples: (t.samples ?? []).map((s) => ({ value: s.value, timestampMs: s.timestamp })),
  }));
}
