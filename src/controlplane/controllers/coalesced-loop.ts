// A coalescing run loop: `request()` asks for one more run of a job; requests made while it runs fold
// into a single further run, so at most one run is in progress and none is lost. The reconciler drives
// its passes and its Ready updates with one each.
export interface CoalescedLoopOptions {
  /** One run of the job. */
  run: () => Promise<void>;
  /** A run threw (the loop goes on with any pending request). */
  onError: (err: Error) => void;
  /** True once the owner has stopped: no new run starts. */
  stopped: () => boolean;
  /** The loop went quiet (nothing running in it). */
  onQuiet: () => void;
}

export class CoalescedLoop {
  private running = false;
  private dirty = false;

  constructor(private readonly o: CoalescedLoopOptions) {}

  /** A run is in progress. */
  get busy(): boolean {
    return this.running;
  }

  /** A run has been asked for and not yet started. */
  get pending(): boolean {
    return this.dirty;
  }

  request(): void {
    if (this.o.stopped()) return;
    this.dirty = true;
    if (this.running) return;
    this.running = true;
    setImmediate(() => void this.loop());
  }

  private async loop(): Promise<void> {
    while (this.dirty && !this.o.stopped()) {
      this.dirty = false;
      try {
        await this.o.run();
      } catch (err) {
        this.o.onError(err as Error);
      }
    }
    this.running = false;
    this.o.onQuiet();
  }
}
