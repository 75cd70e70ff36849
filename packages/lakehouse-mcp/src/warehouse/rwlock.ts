/** A readers-writer lock for one process: many readers or one writer; a waiting writer goes first. */
export class RwLock {
  private readers = 0;
  private writing = false;
  private queue: Array<{ write: boolean; resolve: () => void }> = [];
  /** Called when a caller starts waiting: a long holder may let go early. */
  onWait: (() => void) | undefined;

  async read<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire(false);
    try {
      return await fn();
    } finally {
      this.readers--;
      this.wake();
    }
  }

  async write<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire(true);
    try {
      return await fn();
    } finally {
      this.writing = false;
      this.wake();
    }
  }

  /** Take the lock and hand back its release, for holders that span several calls. */
  async acquireWrite(): Promise<() => void> {
    await this.acquire(true);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.writing = false;
      this.wake();
    };
  }

  /** How many callers wait for the lock. */
  get waiting(): number {
    return this.queue.length;
  }

  /** True when nobody holds or waits for the lock. */
  get idle(): boolean {
    return this.readers === 0 && !this.writing && this.queue.length === 0;
  }

  private acquire(write: boolean): Promise<void> {
    if (this.canEnter(write) && this.queue.length === 0) {
      this.enter(write);
      return Promise.resolve();
    }
    const waiting = new Promise<void>((resolve) => this.queue.push({ write, resolve }));
    this.onWait?.();
    return waiting;
  }

  private canEnter(write: boolean): boolean {
    return write ? !this.writing && this.readers === 0 : !this.writing;
  }

  private enter(write: boolean): void {
    if (write) this.writing = true;
    else this.readers++;
  }

  private wake(): void {
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (!this.canEnter(next.write)) return;
      this.queue.shift();
      this.enter(next.write);
      next.resolve();
      if (next.write) return;
    }
  }
}
