/**
 * Which failures of a Redis command are the connection's (the command may be made again, on the
 * primary found again) rather than the command's own: the socket closed or could not open, the
 * client offline while it reconnects, no answer in time, or a node that says it cannot take writes
 * right now (a replica not yet promoted, a cluster without a primary for the slot).
 */
import { types } from 'node:util';
import { ClientOfflineError, ConnectionTimeoutError, ErrorReply, RootNodesUnavailableError, SocketClosedUnexpectedlyError, SocketTimeoutError } from 'redis';
import { StoreDeadlineError } from '../deadline';

const CLASSES = [StoreDeadlineError, ClientOfflineError, ConnectionTimeoutError, RootNodesUnavailableError, SocketClosedUnexpectedlyError, SocketTimeoutError];

/** a node's refusals of a command it did not run, while the group changes its primary */
const NOT_NOW = /^(READONLY|MASTERDOWN|LOADING|TRYAGAIN|CLUSTERDOWN) /;

const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']);

export function failedToConnect(err: unknown): boolean {
  // not `instanceof Error`: a socket's error (a MULTI queued while the client reconnects fails with
  // it) is made by Node's own net module, whose Error is not the one of a sandbox such as the tests'
  if (!types.isNativeError(err)) return false;
  if (CLASSES.some((c) => err instanceof c)) return true;
  if (err instanceof ErrorReply) return NOT_NOW.test(err.message);
  return SOCKET_CODES.has((err as NodeJS.ErrnoException).code ?? '');
}
