// What `kubectl weft analyze` reports: one Diagnostic per problem, with a stable code (like Istio's ISTnnnn), a
// severity, the object, the field path and a message. The codes are the table below; docs/cli.md lists them.

export type Severity = 'Error' | 'Warning' | 'Info';

/** Severities from the most to the least severe (--failure-threshold compares by position). */
export const SEVERITIES: readonly Severity[] = ['Error', 'Warning', 'Info'];

export interface Diagnostic {
  code: string;
  severity: Severity;
  kind: string;
  namespace?: string;
  name: string;
  /** Where in the object, e.g. `spec.http[0].route[1].destination.subset`; absent when it is the whole object. */
  field?: string;
  message: string;
  /** `file:document` for offline analysis. */
  origin?: string;
}

export interface Message {
  code: string;
  severity: Severity;
  /** A name for the kind of problem (as Istio names its messages). */
  name: string;
}

const message = (code: string, severity: Severity, name: string): Message => ({ code, severity, name });

export const MESSAGES = {
  invalidDocument: message('WEFT0001', 'Error', 'InvalidDocument'),
  unknownKind: message('WEFT0002', 'Error', 'UnknownKind'),
  schemaViolation: message('WEFT0003', 'Error', 'SchemaViolation'),
  unknownField: message('WEFT0004', 'Error', 'UnknownField'),
  istioResource: message('WEFT0005', 'Warning', 'IstioResource'),
  rejected: message('WEFT0100', 'Error', 'Rejected'),
  hostNotFound: message('WEFT0101', 'Error', 'ReferencedHostNotFound'),
  subsetNotFound: message('WEFT0102', 'Error', 'ReferencedSubsetNotFound'),
  gatewayNotFound: message('WEFT0103', 'Error', 'ReferencedGatewayNotFound'),
  policyConflict: message('WEFT0104', 'Error', 'MeshPolicyConflict'),
  hostConflict: message('WEFT0201', 'Error', 'ConflictingHost'),
  unusedDestinationRule: message('WEFT0202', 'Warning', 'DestinationRuleUnused'),
  unusedSubset: message('WEFT0203', 'Info', 'SubsetUnused'),
  podMissingSidecar: message('WEFT0301', 'Warning', 'PodMissingSidecar'),
  plaintextClient: message('WEFT0401', 'Warning', 'PlaintextClientOfStrictWorkload'),
  fieldNotApplied: message('WEFT0501', 'Info', 'FieldNotAppliedYet'),
} as const;

/** The message for a reconciler verdict's reason (src/mesh/<kind>.ts): the common ones have their own code. */
export function messageForReason(reason: string): Message {
  switch (reason) {
    case 'HostNotFound':
      return MESSAGES.hostNotFound;
    case 'SubsetNotFound':
      return MESSAGES.subsetNotFound;
    case 'GatewayNotFound':
      return MESSAGES.gatewayNotFound;
    case 'Conflict':
      return MESSAGES.policyConflict;
    default:
      return MESSAGES.rejected;
  }
}

/** Whether any diagnostic is at `threshold` or more severe. */
export function reachesThreshold(diagnostics: readonly Diagnostic[], threshold: Severity): boolean {
  const limit = SEVERITIES.indexOf(threshold);
  return diagnostics.some((d) => SEVERITIES.indexOf(d.severity) <= limit);
}

export function parseSeverity(value: string, flag: string): Severity {
  const found = SEVERITIES.find((s) => s.toLowerCase() === value.toLowerCase());
  if (!found) throw new Error(`${flag}: expected one of ${SEVERITIES.join(', ')}, got ${value}`);
  return found;
}

/** Errors first, then by object and field: stable output for people and scripts. */
export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  const key = (d: Diagnostic) => [String(SEVERITIES.indexOf(d.severity)), d.namespace ?? '', d.kind, d.name, d.field ?? '', d.code].join('\u0000');
  return [...diagnostics].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
