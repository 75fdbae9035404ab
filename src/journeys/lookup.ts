/** How an id names a journey in the store: a request id as it is, an ICCID only as its hash. */
import { hash } from 'node:crypto';
import type { JourneyLookup } from './event';

export function lookupId(lookup: JourneyLookup): string {
  return lookup.kind === 'request' ? `r:${lookup.value.toLowerCase()}` : `i:${hash('sha256', lookup.value.toUpperCase(), 'base64url')}`;
}

/** an argument of `inspect journey`: a UUID is a request id, a run of 18 to 22 digits (and an F) an ICCID */
export function lookupsOf(id: string): JourneyLookup[] {
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return [{ kind: 'request', value: id }];
  if (/^[0-9]{18,21}[0-9Ff]?$/.test(id)) return [{ kind: 'iccid', value: id }];
  return [];
}
