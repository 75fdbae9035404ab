/** the in-memory store holds as many entries as it may: the write is refused, nothing is lost */
export class StoreFullError extends Error {
  constructor(readonly maxEntries: number) {
    super(`the in-memory store holds its maximum of ${maxEntries} entries`);
    this.name = 'StoreFullError';
  }
}
