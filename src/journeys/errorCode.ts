/** the code of a `code: text` error a message carries (AID.02 5.5), without its text */
export function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'string') return undefined;
  const match = /^\s*(\d{1,4})\s*:/.exec(error);
  return match?.[1];
}
