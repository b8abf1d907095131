import { Env } from '../core/wire';
import { documentClient, snsClient } from './clients';
import { type NoticeDesk, siteNoticeDesk } from './notifier';
import { logger } from './observability';
import type { Settings } from './settings';

/** The notice desk of a deployed handler: its site's topics from the environment, the shared clients and logger. */
export function deployedNoticeDesk(settings: Settings, timeoutMs: number): NoticeDesk {
  return siteNoticeDesk({
    settings,
    sns: snsClient(),
    topics: { warning: settings.required(Env.warningTopic), critical: settings.required(Env.criticalTopic) },
    db: documentClient(),
    timeoutMs,
    log: (level, message, detail) => logger[level](message, detail ?? {}),
  });
}
