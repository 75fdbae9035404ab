/**
 * The nine AID.02 operations (Annex B operationIds) and which role calls each. MSPs call the API the
 * CMP provides (B.1); CMPs call the API the MSP provides (B.2).
 */
import type { Role } from '../config/types';

export const OPERATIONS = {
  sendMspToken: 'msp',
  notifyMspTokenInvalid: 'msp',
  sendProfileInformation: 'msp',
  updateSubscriptionInfo: 'msp',
  submitActivationCode: 'msp',
  requestActivationCode: 'cmp',
  sendCsimStatus: 'cmp',
  requestInvalidateFederatedID: 'cmp',
  requestProfileStatus: 'cmp',
} as const satisfies Record<string, Role>;

export type OperationId = keyof typeof OPERATIONS;

export const OPERATION_IDS = Object.keys(OPERATIONS) as OperationId[];

export function isOperationId(value: string): value is OperationId {
  return Object.hasOwn(OPERATIONS, value);
}

export function callerRoleOf(operationId: OperationId): Role {
  return OPERATIONS[operationId];
}

export function otherRole(role: Role): Role {
  return role === 'msp' ? 'cmp' : 'msp';
}
