import { Logger } from '@aws-lambda-powertools/logger';
import { embeddedMetricLines, type MetricPoint } from '../core/emf';

/** One logger per process, shared by every module of a handler. */
export const logger = new Logger();

/**
 * Writes metrics in embedded metric format straight to stdout: with the JSON log format,
 * console.log output is wrapped by the runtime and would no longer be EMF.
 */
export function publishMetrics(cluster: string, site: string, points: readonly MetricPoint[], nowMs: number): void {
  for (const line of embeddedMetricLines(cluster, site, points, nowMs)) process.stdout.write(`${line}\n`);
}
