/**
 * What AID.02's prose demands of a message beyond what the Annex B schemas can say, checked after
 * them: a breach is the hub's syntax error (code 91) and nothing is forwarded.
 */
import type { OperationId } from './operations';

/** section 7.3: "Maximum length is 512 characters" */
const MAX_ERROR_LENGTH = 512;
/** section 5.5: an error field reads "code: text", "e.g. "19: Other account ID error."" (the
 * Annex example "1000:Customer not eligible" has no space) */
const ERROR_TEXT = /^[0-9]+: ?\S/;

export function ruleProblems(operation: OperationId, body: unknown): string[] {
  if (operation !== 'sendMspToken' || typeof body !== 'object' || body === null) return [];
  const { msp_token: token, error } = body as { msp_token?: unknown; error?: unknown };
  const problems: string[] = [];
  // 7.3: msp_token "Set the value to null if the error parameter is not null", error "Set value to
  // null if msp_token is sent within the request body"
  if ((token === null) === (error === null)) problems.push('exactly one of body.msp_token and body.error is set (AID.02 7.3)');
  if (typeof error === 'string') {
    if (error.length > MAX_ERROR_LENGTH) problems.push(`body.error is at most ${MAX_ERROR_LENGTH} characters (AID.02 7.3)`);
    if (!ERROR_TEXT.test(error)) problems.push('body.error reads "code: text" (AID.02 5.5, e.g. "19: Other account ID error.")');
  }
  return problems;
}
