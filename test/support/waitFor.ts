/** Polls until a condition holds, or fails the test with a clear message when it never does. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 15000, pollMs = 25): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
