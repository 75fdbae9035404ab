/**
 * A vehicle task's step as a user's journey shows it: which transaction on which vehicle (its
 * device id, masked by the recorder), how far it is. Never its activation code.
 */
import type { Told } from '../../journeys/recorder';
import type { Task } from './fleet';

export function taskStep(cmp: string, task: Task): Told {
  const under = task.tx === undefined ? (task.starting ? 'starting' : 'next') : 'under way';
  return {
    operation: `device management ${task.kind} ${task.step}`,
    from: cmp,
    to: task.msp,
    outcome: task.done ? 'done' : under,
    iccid: task.iccid,
    eid: task.eid,
    vehicle: task.deviceId,
  };
}
