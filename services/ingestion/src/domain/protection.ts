/** Whether a new dataset version protects its sensitive fields less than the previous one, and who may do that. */
import { type DomainError, type Result, err, ok } from '@mlops/core';
import type { SensitiveTreatment } from './dataset';

/** How a field leaves ingestion: in clear, hashed (joinable pseudonym) or dropped. */
export type Protection = SensitiveTreatment | 'none';

const STRENGTH: Readonly<Record<Protection, number>> = { none: 0, hash: 1, drop: 2 };

/** One field a new version protects less: removed from sensitiveFields, or "drop" turned into "hash". */
export interface WeakenedField {
  readonly field: string;
  readonly from: SensitiveTreatment;
  readonly to: Protection;
}

/** Every field whose protection the next version lowers, by field name; empty when nothing is weakened. */
export function weakenedProtection(
  previous: Readonly<Record<string, SensitiveTreatment>>,
  next: Readonly<Record<string, SensitiveTreatment>>,
): WeakenedField[] {
  const weakened: WeakenedField[] = [];
  for (const field of Object.keys(previous).sort()) {
    const from = previous[field]!;
    const to: Protection = Object.hasOwn(next, field) ? next[field]! : 'none';
    if (STRENGTH[to] < STRENGTH[from]) weakened.push({ field, from, to });
  }
  return weakened;
}

/** A weakening asked by a caller without the admin role. */
export interface ProtectionNeedsAdmin extends DomainError<'protection_change_forbidden'> {
  readonly details: { readonly fields: WeakenedField[] };
}

/** A weakening asked by an admin without acknowledging it. */
export interface ProtectionNeedsAcknowledgement extends DomainError<'protection_change_unacknowledged'> {
  readonly details: { readonly fields: WeakenedField[] };
}

export type ProtectionChangeRefused = ProtectionNeedsAdmin | ProtectionNeedsAcknowledgement;

function describe(fields: readonly WeakenedField[]): string {
  return fields.map((f) => `"${f.field}" (${f.from} -> ${f.to === 'none' ? 'in clear' : f.to})`).join(', ');
}

/**
 * A version that weakens protection needs the admin role and an explicit acknowledgement of the change;
 * anything else passes. `roles` are the caller's.
 */
export function checkProtectionChange(
  dataset: string,
  weakened: readonly WeakenedField[],
  roles: readonly string[],
  acknowledged: boolean,
): Result<void, ProtectionChangeRefused> {
  if (weakened.length === 0) return ok(undefined);
  const fields = [...weakened];
  if (!roles.includes('admin')) {
    return err({
      kind: 'protection_change_forbidden',
      message: `this version of "${dataset}" weakens the protection of ${describe(fields)}: needs role admin`,
      details: { fields },
    });
  }
  if (!acknowledged) {
    return err({
      kind: 'protection_change_unacknowledged',
      message:
        `this version of "${dataset}" weakens the protection of ${describe(fields)}: ` +
        'repeat the request with ?acknowledgeProtectionChange=true to confirm',
      details: { fields },
    });
  }
  return ok(undefined);
}
