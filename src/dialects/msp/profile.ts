/**
 * An Operational Profile that the hub, acting as the MSP for an operator without an AID.02 backend,
 * handed out and keeps in the dialect's record store (records.ts). Each MSP-side dialect extends it
 * with what its partner system needs to name the profile again.
 */
import type { ProfileState } from './profileStates';

export interface OperatorProfile {
  readonly msp: string;
  /** without the trailing filler F: the key, and what the CMP is told */
  readonly iccid: string;
  readonly mspToken: string;
  readonly cmp: string;
  readonly eid: string;
  /** the AID.02 profile type the CMP asked for */
  readonly profileType: string;
  readonly activationCodeRequestId: string;
  readonly activationCode?: string;
  /** the profile this one replaced (AID.02 4.3.1), null when none */
  readonly swappedIccid: string | null;
  readonly state: ProfileState;
  readonly createdAt: number;
  /** last order, status or progress: the least recently used profile is swapped first */
  readonly usedAt: number;
}

/** 19 to 22 digits (AID.02 5.4; SGP.22 5.2.1 pads a 19-digit one to 20 with `F`) */
export const ICCID_PATTERN = /^[0-9]{19,22}[fF]?$/;

/** the ICCID without SGP.22's filler F (5.2.1): the form the hub keys, compares and tells the CMP,
 * whichever way a partner system writes it */
export function normalizeIccid(iccid: string): string {
  return iccid.replace(/[fF]$/, '');
}
