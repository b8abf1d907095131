import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { type Notice, noticeBody, noticeSubject, severityOf, type Severity } from '../core/notices';

/** Publishes notices to the site's warning or critical topic, by kind, with filterable attributes. */
export class Notifier {
  constructor(
    private readonly sns: SNSClient,
    private readonly topics: Readonly<Record<Severity, string>>,
  ) {}

  async publish(notice: Notice, signal?: AbortSignal): Promise<void> {
    const attributes: Record<string, { DataType: 'String'; StringValue: string }> = {
      kind: { DataType: 'String', StringValue: notice.kind },
      site: { DataType: 'String', StringValue: notice.site },
    };
    if (notice.path !== undefined) attributes.path = { DataType: 'String', StringValue: notice.path };
    await this.sns.send(
      new PublishCommand({ TopicArn: this.topics[severityOf(notice.kind)], Subject: noticeSubject(notice), Message: noticeBody(notice), MessageAttributes: attributes }),
      { abortSignal: signal },
    );
  }
}
