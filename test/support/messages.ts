/** Valid AID.02 messages for tests, one builder per operation (Annex B). */
import { randomUUID } from 'node:crypto';

export const EID = '89049032000001000000000831934057';
export const ICCID = '8949000000000000001';
export const ACCOUNT_ID = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzaWQiOiJ0ZXN0In0.c2ln';
export const PHONE = 'cGhvbmUtbnVtYmVyLWVuY3J5cHRlZC1vcGFxdWU=';
export const IV = 'aXYtdmFsdWUtb3BhcXVl';

export const paths = {
  sendMspToken: (accountId = ACCOUNT_ID) => `/cesim/msp/v1/users/${accountId}`,
  notifyMspTokenInvalid: (token: string) => `/cesim/msp/v1/users/${token}/invalidate`,
  sendProfileInformation: (token: string) => `/cesim/msp/v1/users/${token}/profiles`,
  updateSubscriptionInfo: (token: string) => `/cesim/msp/v1/subscriptions/${token}`,
  submitActivationCode: (token: string) => `/cesim/msp/v1/activation-codes/${token}`,
  requestActivationCode: (token: string) => `/v1/activation-code-requests/${token}`,
  sendCsimStatus: (token: string) => `/v1/statuses/${token}`,
  requestInvalidateFederatedID: (token: string) => `/v1/users/${token}`,
  requestProfileStatus: (token: string, iccid?: string) => `/v1/profiles/status/${token}${iccid ? `?iccid=${iccid}` : ''}`,
};

export const sendMspTokenBody = (token: string) => ({
  msp_token: token,
  phoneNumber: PHONE,
  subscriptionType: 'private',
  error: null,
  customerGroup: 'Market_Germany',
  iv: IV,
});

export const requestActivationCodeBody = (requestId: string = randomUUID(), replaceIccid: string | null = null) => ({
  profileType: 'personal',
  deviceType: 'tcu',
  eid: EID,
  activationCodeRequestID: requestId,
  replaceIccid,
});

export const submitActivationCodeBody = (requestId: string | null, iccid = ICCID) => ({
  activationCode: '1$smdp.example.com$04386-AGYFT-A74Y8-3F815',
  profileType: 'personal',
  activationCodeRequestID: requestId,
  error: null,
  iccid,
  swappedIccid: null,
});

export const sendCsimStatusBody = (status = 'deleted', iccid = ICCID) => ({ iccid, eid: EID, status });

export const sendProfileInformationBody = () => ({
  profiles: [
    { iccid: ICCID, status: 'suspended', reason: 'contract was suspended' },
    { iccid: '8949000000000000002', status: 'invalid', reason: null },
  ],
});

export const updateSubscriptionInfoBody = () => ({ phoneNumber: PHONE, subscriptionType: 'business', customerGroup: 'Fleet', iv: IV });

export const notifyMspTokenInvalidBody = () => ({ reason: 'user subscription ended' });

export interface OperationCase {
  readonly id: string;
  readonly role: 'msp' | 'cmp';
  readonly method: string;
  readonly path: (token: string) => string;
  readonly body?: () => Record<string, unknown>;
  readonly success: number;
}

/** every operation with a valid message, for tests that sweep all nine */
export const OPERATION_CASES: readonly OperationCase[] = [
  { id: 'sendMspToken', role: 'msp', method: 'POST', path: () => paths.sendMspToken(), body: () => sendMspTokenBody(randomUUID()), success: 201 },
  { id: 'notifyMspTokenInvalid', role: 'msp', method: 'POST', path: paths.notifyMspTokenInvalid, body: notifyMspTokenInvalidBody, success: 204 },
  { id: 'sendProfileInformation', role: 'msp', method: 'POST', path: paths.sendProfileInformation, body: sendProfileInformationBody, success: 200 },
  { id: 'updateSubscriptionInfo', role: 'msp', method: 'PATCH', path: paths.updateSubscriptionInfo, body: updateSubscriptionInfoBody, success: 201 },
  { id: 'requestActivationCode', role: 'cmp', method: 'POST', path: paths.requestActivationCode, body: () => requestActivationCodeBody(), success: 200 },
  { id: 'sendCsimStatus', role: 'cmp', method: 'POST', path: paths.sendCsimStatus, body: () => sendCsimStatusBody(), success: 201 },
  { id: 'requestInvalidateFederatedID', role: 'cmp', method: 'DELETE', path: paths.requestInvalidateFederatedID, success: 204 },
  { id: 'requestProfileStatus', role: 'cmp', method: 'GET', path: (t) => paths.requestProfileStatus(t), success: 200 },
];
