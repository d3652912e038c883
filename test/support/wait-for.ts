/**
 * Polls a condition until it holds or a deadline passes: tests wait for
 * states, never for fixed times. The deadline only bounds a broken run.
 */
export async function waitFor(check: () => boolean | Promise<boolean>, opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.what ?? 'condition'}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}
