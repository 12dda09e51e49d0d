// What a Gateway with `deployment` must satisfy beyond the mesh rules (port and host conflicts, src/mesh/gateway.ts):
// its name must make valid object names, and its pods must not also be selected by another generated Deployment.
import type { Gateway } from '../api/index.js';
import { validateGateway } from '../mesh/gateway.js';
import { labelsKey, selects } from '../mesh/labels.js';
import type { MeshLookup } from '../mesh/lookup.js';
import { olderFirst, refOf, verdict, type Problem, type Verdict } from '../mesh/verdict.js';
import { DNS_1035_LABEL, generatedName } from './names.js';

export function validateGatewayDeployment(gw: Gateway, gatewaysInNamespace: readonly Gateway[]): Problem[] {
  if (!gw.spec.deployment) return [];
  const problems: Problem[] = [];
  const name = generatedName(gw);
  if (!DNS_1035_LABEL.test(name)) {
    problems.push({
      reason: 'InvalidName',
      field: 'metadata.name',
      message:
        `the generated Deployment and Service are named after the Gateway, so with spec.deployment its name must be a DNS label ` +
        `(lower-case letters, digits and '-', starting with a letter, at most 63 characters); "${name}" is not`,
    });
  }
  // Two Deployments whose selectors overlap adopt each other's pods; the older Gateway keeps the workload.
  const rival = gatewaysInNamespace
    .filter((other) => other.spec.deployment && refOf(other) !== refOf(gw) && selectorsOverlap(other, gw) && olderFirst(other, gw) < 0)
    .sort(olderFirst)[0];
  if (rival) {
    problems.push({
      reason: 'DeploymentConflict',
      field: 'spec.selector',
      message:
        `Gateway ${refOf(rival)} already deploys pods labelled {${labelsKey(rival.spec.selector)}}, which this selector {${labelsKey(gw.spec.selector)}} ` +
        `would also select: give this Gateway a selector of its own, or remove its spec.deployment to configure that workload instead`,
    });
  }
  return problems;
}

/** One selector matches the pods the other labels its pods with (generated pods carry exactly their selector's labels). */
export function selectorsOverlap(a: Gateway, b: Gateway): boolean {
  return selects(a.spec.selector, b.spec.selector) || selects(b.spec.selector, a.spec.selector);
}

/** The Gateway's Accepted verdict: the mesh's rules (src/mesh/gateway.ts) and, with `deployment`, the ones above. */
export function gatewayVerdict(gw: Gateway, lookup: MeshLookup, gatewaysInNamespace: readonly Gateway[]): Verdict {
  const mesh = validateGateway(gw, lookup);
  const problems = [...(mesh.accepted ? [] : mesh.problems), ...validateGatewayDeployment(gw, gatewaysInNamespace)];
  return problems.length === 0 ? mesh : verdict(problems, mesh.message);
}
