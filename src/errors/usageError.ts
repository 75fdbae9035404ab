/** a command line the hub cannot act on: said in one line, exit 2 */
export class UsageError extends Error {}
