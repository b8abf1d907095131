import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { SiteId } from '../lambdas/core/wire';
import type { MirrorbeatConfig } from './config';
import { SiteNames } from './names';
import { SiteStack } from './site-stack';
import { WitnessStack } from './witness-stack';
import { witnessStackName } from './names';

export interface MirrorbeatSites {
  readonly production: SiteStack;
  readonly standby: SiteStack;
  /** Quorum mode: the witness region's AWS Health rule (lib/witness-stack.ts). */
  readonly witness: WitnessStack | undefined;
}

/**
 * Adds both sites to the app (and, in quorum mode, the witness stack) and runs cdk-nag's AWS Solutions checks over
 * everything.
 * The standby deploys after production, whose stack creates the replicas it refers to.
 */
export function addSites(app: App, config: MirrorbeatConfig, env: { account?: string } = {}): MirrorbeatSites {
  const account = config.account ?? env.account;
  const site = (id: SiteId, region: string) =>
    new SiteStack(app, new SiteNames(config.clusterName, id).stack(), {
      config,
      site: id,
      env: { region, ...(account !== undefined ? { account } : {}) },
      description: `mirrorbeat ${config.clusterName}: ${id} site in ${region} (two-path heartbeat, fenced failover)`,
      terminationProtection: id === 'production',
    });
  const production = site('production', config.productionRegion);
  const standby = site('standby', config.standbyRegion);
  standby.addStackDependency(
    production,
    'the standby refers to the heartbeat volume replica and signing key replica that production creates',
  );
  const witnessRegion = config.consistency === 'strong' ? config.witnessRegion : undefined;
  const witness =
    witnessRegion === undefined
      ? undefined
      : new WitnessStack(app, witnessStackName(config.clusterName), {
          config,
          env: { region: witnessRegion, ...(account !== undefined ? { account } : {}) },
          description: `mirrorbeat ${config.clusterName}: witness region ${witnessRegion} (AWS Health events about DynamoDB there, forwarded to both sites)`,
        });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { production, standby, witness };
}
