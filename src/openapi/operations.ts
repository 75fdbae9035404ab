/**
 * The nine AID.02 operations (Annex B operationIds) and which role calls each. MSPs call the API the
 * CMP provides (B.1); CMPs call the API the MSP provides (B.2).
 */
/** `msp` or `cmp`: MSPs call the CMP API (Annex B.1), CMPs call the MSP API (Annex B.2) */
export type Role = 'msp' | 'cmp';

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

/** what a call to a partner carries out: an AID.02 operation, an event the hub owes a partner's own
 * back office (a dialect's webhook), or work a dialect scheduled for itself through the outbox
 * (`dialectTask`: durable, taken over by another hub instance when one dies, run again after the
 * Retry-After its answer gives, dead-lettered when it answers a refusal) */
export type CallOperation = OperationId | 'dialectEvent' | 'dialectTask';
