import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges one cdk-nag AWS Solutions finding on one construct, with its reason.
 * `finding` is the rule id with its finding, e.g. `IAM5[Resource::*]`.
 */
export function acknowledgeNag(scope: IConstruct, finding: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions::AwsSolutions-${finding}`, reason });
}

/** How cdk-nag names "any version or alias of this resource's ARN" in an IAM5 finding. */
export function arnWildcardFinding(resource: IConstruct): string {
  const logicalId = Stack.of(resource).getLogicalId(resource.node.defaultChild as CfnElement);
  return `IAM5[Resource::<${logicalId}.Arn>:*]`;
}
