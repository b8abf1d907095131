import { deadlineSignal } from './deadlines';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import {
  type Notice,
  noticeDocument,
  noticeId,
  noticeSubject,
  noticeText,
  severityOf,
  type TopicSeverity,
} from '../core/notices';
import type { SiteId } from '../core/wire';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type FoldWindow, NoticeJournal } from './journal';
import type { Settings } from './settings';

/** Subscription protocols that parse: they get the JSON document; people's protocols get the text. */
const MACHINE_PROTOCOLS = ['lambda', 'sqs', 'http', 'https', 'firehose', 'email-json', 'application'] as const;

/** The SNS publish of one notice: topic by severity, filterable attributes, a body per kind of subscriber. */
export function publishInput(
  notice: Notice,
  id: string,
  topics: Readonly<Record<TopicSeverity, string>>,
  runbookUrl?: string,
): ConstructorParameters<typeof PublishCommand>[0] {
  const severity = severityOf(notice);
  const attributes: Record<string, { DataType: 'String'; StringValue: string }> = {
    kind: { DataType: 'String', StringValue: notice.kind },
    site: { DataType: 'String', StringValue: notice.site },
    severity: { DataType: 'String', StringValue: severity },
  };
  if (notice.path !== undefined) attributes.path = { DataType: 'String', StringValue: notice.path };
  if (notice.folded !== undefined) attributes.folded = { DataType: 'String', StringValue: String(notice.folded.count) };
  const subject = noticeSubject(notice);
  const text = noticeText(notice, id, runbookUrl);
  const document = JSON.stringify(noticeDocument(notice, id, runbookUrl));
  const message: Record<string, string> = { default: text, email: text, sms: subject };
  for (const protocol of MACHINE_PROTOCOLS) message[protocol] = document;
  return {
    // An info notice reaches a topic only where notifications.publishInfo asks (NoticeDesk): the warning one.
    TopicArn: topics[severity === 'info' ? 'warning' : severity],
    Subject: subject,
    MessageStructure: 'json',
    Message: JSON.stringify(message),
    MessageAttributes: attributes,
  };
}

/** Publishes notices to the site's warning or critical topic. */
export class Notifier {
  constructor(
    private readonly sns: SNSClient,
    private readonly topics: Readonly<Record<TopicSeverity, string>>,
    private readonly runbookUrl?: string,
  ) {}

  async publish(notice: Notice, id: string, signal?: AbortSignal): Promise<void> {
    await this.sns.send(new PublishCommand(publishInput(notice, id, this.topics, this.runbookUrl)), {
      abortSignal: signal,
    });
  }
}

/**
 * The rate limit: at most `burst` warning notices of one kind and path per window; the rest are folded into a summary.
 */
export interface NoticePolicy {
  readonly windowSeconds: number;
  readonly burst: number;
}

/** What became of a notice: `recorded`, an info notice journaled and published to no topic (publishInfo off). */
export type Outcome = 'published' | 'folded' | 'duplicate' | 'pending' | 'recorded';

export interface DeskDeps {
  readonly site: SiteId;
  readonly notifier: Pick<Notifier, 'publish'>;
  readonly journal: NoticeJournal;
  readonly policy: NoticePolicy;
  /** Info notices are published too, to the warning topic (notifications.publishInfo); otherwise only recorded. */
  readonly publishInfo?: boolean;
  /** Each call's own budget: one slow call must not eat the next one's. */
  readonly timeoutMs: number;
  readonly log: (level: 'info' | 'warn' | 'error', message: string, detail?: Record<string, unknown>) => void;
}

/** The outbox keeps trying a notice SNS did not take for this long. */
const OUTBOX_MS = 24 * 3_600_000;
/** A fresh pending notice may still be in its first publish: the outbox leaves it alone this long. */
const IN_FLIGHT_MS = 60_000;

/**
 * The one way a notice leaves a site. Each notice is counted against its rate-limit window,
 * written to the site's journal (the outbox, and what `mirrorbeat status` shows), published,
 * and marked published. Nothing is dropped silently: a folded notice is counted in its window
 * and summarized when the window ends; a publish that failed is retried by `flush`. A failing
 * journal never silences a notice: it is still published.
 */
export class NoticeDesk {
  constructor(private readonly deps: DeskDeps) {}

  private signal(): AbortSignal {
    return deadlineSignal(this.deps.timeoutMs);
  }

  /** Announces one notice; `id` defaults to one made of its time, kind and path (see noticeId). */
  async announce(
    notice: Notice,
    nowMs: number,
    id: string = noticeId(notice),
  ): Promise<{ id: string; outcome: Outcome }> {
    const outcome = await this.handle(notice, nowMs, id);
    // One log line per notice, whatever became of it: the dashboard's notices widget queries these.
    this.deps.log('info', 'notice', {
      id,
      kind: notice.kind,
      severity: severityOf(notice),
      path: notice.path,
      subject: noticeSubject(notice),
      outcome,
    });
    return { id, outcome };
  }

  private async handle(notice: Notice, nowMs: number, id: string): Promise<Outcome> {
    const { journal, policy, site } = this.deps;
    if (severityOf(notice) === 'warning' && notice.folded === undefined && policy.burst > 0) {
      try {
        const admission = await journal.admit(
          site,
          notice.kind,
          notice.path ?? site,
          notice,
          nowMs,
          policy.windowSeconds * 1000,
          policy.burst,
          this.signal(),
        );
        if (!admission.admit) return 'folded';
        if (admission.closed !== undefined) await this.summarize(admission.closed, nowMs);
      } catch (error) {
        // The limiter is down with the table: better a notice too many than one too few.
        this.deps.log('warn', 'rate limit unavailable; publishing', { kind: notice.kind, error: String(error) });
      }
    }
    return this.deliver(notice, id, nowMs);
  }

  /**
   * Summarizes rate-limit windows that ran out with folded notices, and publishes again what
   * SNS did not take. Returns how many of each, and how many publishes failed again.
   */
  async flush(nowMs: number): Promise<{ summaries: number; retried: number; failed: number }> {
    const { journal, policy, site } = this.deps;
    let summaries = 0;
    let retried = 0;
    let failed = 0;
    if (policy.burst > 0) {
      for (const window of await journal.closedWindows(site, nowMs, policy.windowSeconds * 1000, this.signal())) {
        const outcome = await this.summarize(window, nowMs);
        // A summary the next notice of its kind already sent is only closed here.
        if (outcome !== undefined && outcome !== 'duplicate') summaries += 1;
        if (outcome === 'pending') failed += 1;
      }
    }
    for (const entry of await journal.pending(site, nowMs - OUTBOX_MS, this.signal())) {
      if (entry.attempts === 0 && entry.notice.atMs > nowMs - IN_FLIGHT_MS) continue;
      retried += 1;
      if ((await this.publish(entry.notice, entry.id, nowMs)) === 'pending') failed += 1;
    }
    return { summaries, retried, failed };
  }

  /** One summary per window (its id is the window's): journaled first, then the window is closed, then published. */
  private async summarize(window: FoldWindow, nowMs: number): Promise<Outcome | undefined> {
    if (window.last === undefined || window.folded === 0) return undefined;
    const folded = {
      count: window.folded,
      firstAtMs: window.firstFoldedAtMs ?? window.startMs,
      lastAtMs: window.lastFoldedAtMs ?? window.startMs,
      windowSeconds: this.deps.policy.windowSeconds,
    };
    const summary: Notice = { ...window.last, atMs: nowMs, folded };
    const id = noticeId({ kind: summary.kind, path: summary.path, folded, atMs: window.startMs });
    const outcome = await this.deliver(summary, id, nowMs);
    await this.deps.journal.closeWindow(window, this.signal()).catch((error: unknown) => {
      this.deps.log('warn', 'rate-limit window not closed; the next flush closes it', {
        kind: window.kind,
        error: String(error),
      });
    });
    return outcome;
  }

  private async deliver(notice: Notice, id: string, nowMs: number): Promise<Outcome> {
    const { journal, site } = this.deps;
    if (severityOf(notice) === 'info' && this.deps.publishInfo !== true) {
      // Recorded for status, history and the page; it pages no one. Its log line (announce) stays if the journal fails.
      const added = await journal
        .add(site, id, notice, noticeSubject(notice), this.signal(), 'recorded')
        .catch((error: unknown) => {
          this.deps.log('warn', 'info notice not journaled', { kind: notice.kind, id, error: String(error) });
          return true;
        });
      return added ? 'recorded' : 'duplicate';
    }
    try {
      if (!(await journal.add(site, id, notice, noticeSubject(notice), this.signal()))) {
        const entry = await journal.get(site, id, this.signal());
        // Announced before (a retried step): publish only if SNS has not taken it yet.
        if (entry?.delivery === 'published') return 'duplicate';
      }
    } catch (error) {
      this.deps.log('warn', 'notice not journaled; publishing anyway', { kind: notice.kind, id, error: String(error) });
    }
    return this.publish(notice, id, nowMs);
  }

  private async publish(notice: Notice, id: string, nowMs: number): Promise<Outcome> {
    const { journal, site } = this.deps;
    try {
      await this.deps.notifier.publish(notice, id, this.signal());
    } catch (error) {
      this.deps.log('error', 'notice not published; the outbox tries again', {
        kind: notice.kind,
        id,
        error: String(error),
      });
      await journal.markFailedAttempt(site, id, String(error), this.signal());
      return 'pending';
    }
    await journal.markPublished(site, id, nowMs, this.signal()).catch((error: unknown) => {
      // Published but not marked: the outbox may publish it once more, which SNS subscribers must bear anyway.
      this.deps.log('warn', 'published notice not marked', { id, error: String(error) });
    });
    return 'published';
  }
}

/** A site's desk as its handlers build it: the journal in the heartbeat volume, the policy from the tuning. */
export function siteNoticeDesk(options: {
  readonly settings: Pick<Settings, 'site' | 'heartbeatVolume' | 'tuning'>;
  readonly sns: SNSClient;
  readonly topics: Readonly<Record<TopicSeverity, string>>;
  readonly db: DynamoDBDocumentClient;
  readonly timeoutMs: number;
  readonly log: DeskDeps['log'];
}): NoticeDesk {
  const { settings } = options;
  return new NoticeDesk({
    site: settings.site,
    notifier: new Notifier(options.sns, options.topics, settings.tuning.runbookUrl),
    journal: new NoticeJournal(options.db, settings.heartbeatVolume),
    policy: { windowSeconds: settings.tuning.noticeWindowSeconds, burst: settings.tuning.noticeBurst },
    publishInfo: settings.tuning.publishInfo === true,
    timeoutMs: options.timeoutMs,
    log: options.log,
  });
}
