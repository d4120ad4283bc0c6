/**
 * The SNMP probe's failures: what net-snmp 3.29 reports for each (read from its index.js, confirmed
 * by the tests against its own Agent and against Net-SNMP's snmpd 5.9) and the error type it gets:
 * - wrong v1/v2c community, closed port, host down: agents drop bad communities silently and the
 *   session's UDP socket is unconnected, so ICMP port-unreachable never reaches it: all three are
 *   RequestTimedOutError, told apart by nothing.
 * - v3 unknown user (both agents), wrong auth key (snmpd), security level above the user's: the
 *   agent answers with a USM Report PDU and the session fails with ResponseInvalidError code
 *   EAuthFailure, its message naming the usmStats counter ("Unknown User Name", "Wrong Digest ...").
 * - v3 wrong auth key (net-snmp's Agent), wrong priv key (both): the agent drops the request
 *   silently after answering discovery -> RequestTimedOutError; see v3Silence.
 * - error-status in the response: RequestFailedError with `status` -> snmp_error_status, except
 *   v1 noSuchName -> snmp_no_such_object (snmpd's v1 answer for a missing OID).
 * - noSuchObject / noSuchInstance / endOfMibView: a normal response; the varbind says so.
 * - DES privacy on Node 22 (OpenSSL 3 without its legacy provider): net-snmp throws
 *   ERR_OSSL_EVP_UNSUPPORTED while encrypting -> config_error (the probe checks before sending).
 * - socket errors arrive through the request callback; an unparseable datagram is emitted as
 *   'error' on the session, which throws if nobody listens -> protocol_error.
 * - an answer with another request-id: net-snmp drops it silently, so the request times out;
 *   the probe counts the session's datagrams to tell that from silence -> protocol_error.
 */
import {
  ErrorStatus,
  RequestFailedError,
  RequestTimedOutError,
  ResponseInvalidCode,
  ResponseInvalidError,
} from 'net-snmp';
import { classifySocketError, describeError } from './errors.ts';
import type { ErrorType } from './types.ts';

/** No answer at all from a v1/v2c agent. */
export function noAnswerMessage(timeoutMs: number): string {
  return `no answer within ${timeoutMs} ms (wrong community or host down)`;
}

/** Error type, message and extra detail of a failed check. */
export type Verdict = [ErrorType, string, Record<string, unknown>];

/**
 * A v1/v2c request that got no answer of its own. Every parseable answer with our request-id
 * settles the request, and an unparseable one fails it at once, so datagrams received by then
 * all carried someone else's request-id: the agent is up but answers wrongly (a broken agent, or
 * replies reflected by a NAT), which a "host down" verdict would hide.
 */
export function v1Silence(timeoutMs: number, answers: number): Verdict {
  if (answers === 0) return ['timeout', noAnswerMessage(timeoutMs), {}];
  return [
    'protocol_error',
    `agent sent ${answers} answer(s) within ${timeoutMs} ms, none with this request's request-id`,
    { mismatchedAnswers: answers },
  ];
}

/**
 * A v3 request nobody answered. When the agent did answer the (unauthenticated) discovery, it is
 * up and speaks v3, and agents drop requests they cannot authenticate or decrypt without a word:
 * net-snmp's Agent for a wrong auth or priv key, snmpd for a wrong priv key. So that silence is
 * reported as an auth failure rather than as a down host.
 */
export function v3Silence(timeoutMs: number, discovered: boolean): Verdict {
  if (!discovered) return ['timeout', `no answer within ${timeoutMs} ms (host down or not speaking SNMPv3)`, {}];
  return [
    'snmp_auth_failed',
    `agent answered SNMPv3 discovery but not the authenticated request within ${timeoutMs} ms ` +
      '(wrong auth/priv key or protocol: agents drop such requests silently)',
    { engineDiscovered: true },
  ];
}

/**
 * Classify the error net-snmp hands to the GET callback. Messages never echo net-snmp's own text
 * where it may hold a community or digests.
 */
export function classifyGetError(err: Error, silence: () => Verdict): Verdict {
  if (err instanceof RequestTimedOutError) return silence();
  if (err instanceof RequestFailedError) {
    const status = ErrorStatus[err.status ?? ErrorStatus.GeneralError] ?? 'GeneralError';
    // SNMPv1 has no varbind exceptions: noSuchName is how a v1 agent says the OID does not exist.
    const type: ErrorType = err.status === ErrorStatus.NoSuchName ? 'snmp_no_such_object' : 'snmp_error_status';
    return [type, `agent answered with error-status ${err.message}`, { errorStatus: status }];
  }
  if (err instanceof ResponseInvalidError) return classifyInvalidResponse(err);
  const code = (err as { code?: unknown }).code;
  // Thrown while encrypting or hashing: the runtime lacks a cipher or digest the credential names.
  if (typeof code === 'string' && code.startsWith('ERR_OSSL')) {
    return ['config_error', `SNMPv3 crypto unavailable in this Node.js: ${describeError(err)}`, {}];
  }
  if (typeof code === 'string') return [classifySocketError(err), `socket error: ${describeError(err)}`, {}];
  return ['network_error', describeError(err), {}];
}

function classifyInvalidResponse(err: ResponseInvalidError): Verdict {
  if (err.code === ResponseInvalidCode.EAuthFailure) {
    // From a USM Report PDU the message is the usmStats counter's name ("Unknown User Name",
    // "Wrong Digest ..."); from a local digest check it quotes digests, which we do not repeat.
    const report = err.message.startsWith('Authentication digest') ? 'response digest does not match' : err.message;
    return ['snmp_auth_failed', `SNMPv3 authentication failed: ${report}`, {}];
  }
  if (err.code === ResponseInvalidCode.ECouldNotDecrypt) {
    return ['snmp_auth_failed', 'SNMPv3 response could not be decrypted (wrong privacy key or protocol?)', {}];
  }
  const codeName = ResponseInvalidCode[err.code] ?? String(err.code);
  return ['protocol_error', `invalid SNMP response (${codeName})`, {}];
}
