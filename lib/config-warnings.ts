// What a valid configuration may still get wrong: the warnings `cdk synth`, `mirrorbeat config` and `simulate` print.
import { SITE_IDS } from '../lambdas/core/wire';
import { CONTEXT_KEY, type MirrorbeatConfig } from './config';
import { configObject } from './config-keys';
import { SiteNames } from './names';

/**
 * What a valid configuration may still get wrong, one line each: `cdk synth` and
 * `mirrorbeat config` print them as warnings.
 */
export function configWarnings(c: MirrorbeatConfig): string[] {
  const promotion = promotionWarning(c);
  const warnings: string[] = promotion === undefined ? [] : [promotion];
  if (c.notifications.criticalEmails.length === 0 && c.notifications.warningEmails.length === 0) {
    const topics = SITE_IDS.map((site) => new SiteNames(c.clusterName, site).topic('critical')).join(' and ');
    warnings.push(
      `${CONTEXT_KEY}.notifications: no criticalEmails and no warningEmails, so a lost site or a failover pages nobody; add the on-call address to ${CONTEXT_KEY}.notifications.criticalEmails, or subscribe your pager to ${topics} after deploying`,
    );
  }
  return warnings;
}

/**
 * What a failover would not do: with no promotion action configured it moves the primary role in the cluster record
 * (and calls the fence hook, if any) and nothing else. Said once by a deploy and by `simulate`.
 */
export function promotionWarning(c: MirrorbeatConfig): string | undefined {
  const keys = Object.keys(configObject.shape.promotion.unwrap().shape);
  if (Object.values(c.promotion).some((action) => action !== undefined)) return undefined;
  const hook = c.fenceHookFunctionArn === undefined ? '' : ' and calls your fence hook';
  return `${CONTEXT_KEY}.promotion: no action configured, so a failover moves the primary role in mirrorbeat's cluster record${hook} and nothing else: your databases, traffic and capacity stay where they are; configure one of ${keys.map((k) => `${CONTEXT_KEY}.promotion.${k}`).join(', ')} (docs/CONFIGURATION.md)`;
}
