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
