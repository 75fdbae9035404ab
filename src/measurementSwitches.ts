/**
 * Switches that turn a feature off so that `npm run bench` can show what each one costs
 * (`AID_GATEWAY_SWITCH_OFF=requestValidation,metrics`). They are for measuring only: a hub without
 * request validation would hand malformed messages to later steps and to partners. The hub
 * warns at start while one is set.
 */
export const SWITCHABLE = ['requestValidation', 'metrics'] as const;
export type Switchable = (typeof SWITCHABLE)[number];

export const SWITCH_OFF_ENV = 'AID_GATEWAY_SWITCH_OFF';

/** the features named in the variable; an unknown name is an error, never silently ignored */
export function switchedOff(value: string | undefined): ReadonlySet<Switchable> {
  const names = (value ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(SWITCHABLE as readonly string[]).includes(n));
  if (unknown.length > 0) throw new Error(`${SWITCH_OFF_ENV}: unknown feature ${unknown.join(', ')} (known: ${SWITCHABLE.join(', ')})`);
  return new Set(names as Switchable[]);
}
