import http from 'node:http';

export interface SseEvent {
  id: string;
  event: string;
  data: Record<string, unknown>;
}

/** A Server-Sent Events client on a real connection: collects events and comments as they come. */
export function openSse(url: string, headers: Record<string, string>) {
  const events: SseEvent[] = [];
  const comments: string[] = [];
  let buffer = '';
  let status = 0;
  let markEnded: () => void = () => {};
  /** Resolves when the server ends the response. */
  const ended = new Promise<void>((resolve) => (markEnded = resolve));
  const req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
    status = res.statusCode ?? 0;
    res.once('end', () => markEnded());
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        parseBlock(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    });
    res.on('error', () => {});
  });
  req.on('error', () => {});
  function parseBlock(block: string) {
    const fields: Record<string, string> = {};
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) comments.push(line.slice(1).trim());
      else {
        const i = line.indexOf(':');
        fields[line.slice(0, i)] = line.slice(i + 1).trimStart();
      }
    }
    if (fields.data) events.push({ id: fields.id ?? '', event: fields.event ?? 'message', data: JSON.parse(fields.data) });
  }
  return { events, comments, ended, status: () => status, close: () => req.destroy() };
}
