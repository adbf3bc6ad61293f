// Waiting for what another connection or process does, in real time.

/** Polls until `check` holds, in real time (the other side is a real connection); fails after `ms`. */
export async function within(ms: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
