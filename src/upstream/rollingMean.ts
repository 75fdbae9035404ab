/**
 * The mean of the values recorded over a rolling window, kept as a count and a sum per slice of
 * the window: a slice older than the window is forgotten whole when its place comes round again,
 * as opossum's own window forgets its buckets. Recording is two additions; nothing is kept per
 * value and no timer runs.
 */
export class RollingMean {
  private readonly counts: Float64Array;
  private readonly sums: Float64Array;
  /** the slice (time / sliceMs) each place holds; -1 where it holds none yet */
  private readonly slices: Float64Array;
  private readonly sliceMs: number;

  constructor(windowMs: number, slices: number) {
    this.sliceMs = Math.max(1, Math.floor(windowMs / slices));
    this.counts = new Float64Array(slices);
    this.sums = new Float64Array(slices);
    this.slices = new Float64Array(slices).fill(-1);
  }

  record(value: number, now = Date.now()): void {
    const slice = Math.floor(now / this.sliceMs);
    const place = slice % this.slices.length;
    if (this.slices[place] !== slice) {
      this.slices[place] = slice;
      this.counts[place] = 0;
      this.sums[place] = 0;
    }
    this.counts[place] += 1;
    this.sums[place] += value;
  }

  /** the mean over the window that ends now; 0 when nothing was recorded in it */
  mean(now = Date.now()): number {
    const current = Math.floor(now / this.sliceMs);
    let count = 0;
    let sum = 0;
    for (let place = 0; place < this.slices.length; place++) {
      if (current - this.slices[place] >= this.slices.length) continue;
      count += this.counts[place];
      sum += this.sums[place];
    }
    return count === 0 ? 0 : sum / count;
  }
}
