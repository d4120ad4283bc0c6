import { SMTPServer } from 'smtp-server';
import type { LoopbackTarget } from './targets.ts';

/** One message the test SMTP server accepted. */
export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  /** The authenticated user, when the client logged in. */
  user: string | undefined;
}

export interface SmtpTarget extends LoopbackTarget {
  /** Every message accepted so far, oldest first. */
  mails: ReceivedMail[];
  /** The password of every login attempt, right or wrong, oldest first. */
  logins: string[];
}

/**
 * A real SMTP server on loopback (smtp-server, no TLS) that requires a login as `user` with
 * `password` and keeps what it receives.
 */
export async function startSmtpTarget(user: string, password: string): Promise<SmtpTarget> {
  const mails: ReceivedMail[] = [];
  const logins: string[] = [];
  const server = new SMTPServer({
    authOptional: false,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, cb) {
      logins.push(auth.password ?? '');
      if (auth.username === user && auth.password === password) cb(null, { user: auth.username });
      else cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          user: session.user as string | undefined,
        });
        cb();
      });
    },
  });
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.server.address() as { port: number }).port)));
  return { port, mails, logins, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
