import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { RejectionReason } from '../lambdas/core/message';
import type { SiteVerdict } from '../lambdas/core/verdict';
import { METRICS_NAMESPACE, MetricName, type PathId } from '../lambdas/core/wire';
import type { SiteNames } from './names';

/**
 * CloudWatch Logs Insights queries over the heartbeat module's log, for the values only the dashboard plots (logged,
 * not declared metrics: lambdas/core/emf.ts, logOnly), each a line per minute.
 */
export const LOG_SERIES = {
  /** A path's peer beat age against its adaptive deadline, in seconds. */
  beatAge: (path: PathId): string[] => [
    `filter Path = '${path}' and ispresent(${MetricName.peerBeatAge})`,
    `stats max(${MetricName.peerBeatAge}) as beat_age_s, max(${MetricName.deadline}) as deadline_s by bin(1m)`,
  ],
  /** Phi of a path's failure detector: how sure the site is that the peer went silent on it. */
  phi: (path: PathId): string[] => [
    `filter Path = '${path}' and ispresent(${MetricName.phi})`,
    `stats max(${MetricName.phi}) as phi by bin(1m)`,
  ],
  /** 1 in the minutes this site acted as primary. */
  actingPrimary: (): string[] => [
    `filter ispresent(${MetricName.actingPrimary})`,
    `stats max(${MetricName.actingPrimary}) as acts_as_primary by bin(1m)`,
  ],
} as const;

/** Refused beats in 5 minutes that raise BadHeartbeats: one forged (`signature`, `sender`), or this many replays. */
export const REPLAYS_TOLERATED = 10;

/**
 * CloudWatch metric math over InvalidBeats per reason (signature, sender, replay; see SiteMetrics.badHeartbeats).
 * FILL: a reason with no refused beat in the period has no data point at all, and counts as none.
 */
export const BAD_HEARTBEATS = `IF(FILL(signature, 0) + FILL(sender, 0) >= 1 OR FILL(replay, 0) >= ${REPLAYS_TOLERATED}, 1, 0)`;

/** CloudWatch metric math over each path's PathFailed (nf, sf) and PathMode (nm, sm): see SiteMetrics.bothPathsFailed. */
export const BOTH_PATHS_FAILED = 'IF((nm == 2 OR sm == 2) AND (nm != 2 OR nf >= 1) AND (sm != 2 OR sf >= 1), 1, 0)';

/**
 * The metrics mirrorbeat's handlers emit, as CloudWatch metric objects. Alarms and the
 * dashboard are built from these same factories, so they cannot disagree.
 */
export class SiteMetrics {
  constructor(private readonly names: SiteNames) {}

  private metric(
    name: string,
    statistic: string,
    extra: Record<string, string> = {},
    period = Duration.minutes(1),
  ): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: name,
      dimensionsMap: { Cluster: this.names.cluster, Site: this.names.site, ...extra },
      statistic,
      period,
    });
  }

  /** 1 while the path to the peer is failed, 0 otherwise (emitted every tick). */
  pathFailed(path: PathId): cloudwatch.Metric {
    return this.metric(MetricName.pathFailed, cloudwatch.Stats.MAXIMUM, { Path: path });
  }

  /** Beats refused for one reason over 5 minutes, whichever path carried them. */
  invalidBeats(reason: RejectionReason): cloudwatch.Metric {
    return this.metric(MetricName.invalidBeats, cloudwatch.Stats.SUM, { Reason: reason }, Duration.minutes(5));
  }

  /**
   * 1 when, in 5 minutes, a beat was refused for a bad signature or an unknown sender (forged, or keys out of step),
   * or replays reached REPLAYS_TOLERATED (EventBridge delivers at least once: a duplicate now and then is no attack);
   * 0 otherwise. Skew, epoch and schema refusals are on the dashboard: a clock or an old primary, not a forger.
   */
  badHeartbeats(): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: BAD_HEARTBEATS,
      usingMetrics: {
        signature: this.invalidBeats('signature'),
        sender: this.invalidBeats('sender'),
        replay: this.invalidBeats('replay'),
      },
      label: 'Forged beats, or replays past the tolerance',
      period: Duration.minutes(5),
    });
  }

  sendFailures(path: PathId): cloudwatch.Metric {
    return this.metric(MetricName.sendFailures, cloudwatch.Stats.SUM, { Path: path });
  }

  /** Heartbeat-module ticks per minute; missing data means the module stopped. */
  ticks(): cloudwatch.Metric {
    return this.metric(MetricName.ticks, cloudwatch.Stats.SUM);
  }

  /** 1 in the minutes this site's verdict on its peer was `verdict`. */
  verdict(verdict: SiteVerdict): cloudwatch.Metric {
    return this.metric(MetricName.verdict, cloudwatch.Stats.MAXIMUM, { Verdict: verdict });
  }

  /**
   * 1 in a minute throughout which this site saw no site acting as primary (Minimum: a failover's seconds do not
   * count).
   */
  noPrimary(): cloudwatch.Metric {
    return this.metric(MetricName.noPrimary, cloudwatch.Stats.MINIMUM);
  }

  /**
   * 1 in the minutes this site acted as primary and a fresh valid beat of the peer claimed primary at the same epoch
   * (site-step.ts, twoPrimariesOf); published only then. Maximum: one such tick is enough.
   */
  twoPrimaries(): cloudwatch.Metric {
    return this.metric(MetricName.twoPrimaries, cloudwatch.Stats.MAXIMUM);
  }

  /**
   * 1 in the minutes quorum mode's votes were one fault from no majority, as this site saw them (core/quorum.ts);
   * published only then.
   */
  quorumDegraded(): cloudwatch.Metric {
    return this.metric(MetricName.quorumDegraded, cloudwatch.Stats.MAXIMUM);
  }

  /** 1 while maintenance mode is on (mirrorbeat maintenance), as this site read it. */
  maintenance(): cloudwatch.Metric {
    return this.metric(MetricName.maintenance, cloudwatch.Stats.MAXIMUM);
  }

  /** 1 when the last readiness check found a failover to this site would succeed, 0 when not (Minimum). */
  failoverReady(period: Duration): cloudwatch.Metric {
    return this.metric(MetricName.failoverReady, cloudwatch.Stats.MINIMUM, {}, period);
  }

  /** 1 while the peer's valid beats say its workload failed. */
  peerHealthFailed(): cloudwatch.Metric {
    return this.metric(MetricName.peerHealthFailed, cloudwatch.Stats.MAXIMUM);
  }

  /** Invalid beats broken down by path and reason, whatever reasons occur. */
  invalidBeatsByReason(): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: `SEARCH('{${METRICS_NAMESPACE},Cluster,Site,Path,Reason} MetricName="${MetricName.invalidBeats}" Cluster="${this.names.cluster}" Site="${this.names.site}"', 'Sum', 60)`,
      label: '',
      period: Duration.minutes(1),
    });
  }

  /** The path registry as this site applies it: 2 enabled, 1 pending, 0 disabled (the lowest in the minute). */
  pathMode(path: PathId): cloudwatch.Metric {
    return this.metric(MetricName.pathMode, cloudwatch.Stats.MINIMUM, { Path: path });
  }

  noticesFolded(): cloudwatch.Metric {
    return this.metric(MetricName.noticesFolded, cloudwatch.Stats.SUM);
  }

  /** Notices SNS did not take in the minute (first attempts and outbox retries). */
  noticesUndelivered(): cloudwatch.Metric {
    return this.metric(MetricName.noticesUndelivered, cloudwatch.Stats.SUM);
  }

  /**
   * 1 in a minute where every enabled path failed (a path counts as enabled when its mode was enabled all the minute:
   * PathMode's minimum is 2), and at least one path is enabled; 0 otherwise. A disabled or pending path neither fails
   * nor holds it back: with one path switched off, the other one's failure is both paths failed.
   */
  bothPathsFailed(): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: BOTH_PATHS_FAILED,
      usingMetrics: {
        nf: this.pathFailed('network'),
        sf: this.pathFailed('storage'),
        nm: this.pathMode('network'),
        sm: this.pathMode('storage'),
      },
      label: 'Every enabled path failed',
      period: Duration.minutes(1),
    });
  }
}
