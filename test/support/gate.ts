/**
 * A point in a fake's code where a test can hold the next caller: `hold()` arms it and answers
 * when a caller has arrived (`reached`) and how to let it go on (`release`); `pass()` is the
 * point itself. It holds one caller per `hold()`; callers after that pass at once.
 */
export class Gate {
  private armed: { arrive: () => void; released: Promise<void> } | null = null;

  hold(): { reached: Promise<void>; release: () => void } {
    let arrive = () => {};
    let release = () => {};
    const reached = new Promise<void>((resolve) => {
      arrive = resolve;
    });
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.armed = { arrive, released };
    return { reached, release };
  }

  async pass(): Promise<void> {
    const armed = this.armed;
    if (!armed) return;
    this.armed = null;
    armed.arrive();
    await armed.released;
  }
}
