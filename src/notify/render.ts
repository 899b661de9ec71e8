// Bodies per endpoint format (docs/notifications.md "Formats"). Slack and Teams incoming webhooks
// take their own shapes and verify no signature; their text is rendered from the generic payload,
// and everything in it that came from outside (image names, reasons, actors) is shown as text:
// it can neither format, link, mention nor add lines.
import type { NotificationPayload, NotificationType } from './event.ts';

export type NotificationFormat = 'generic' | 'slack' | 'teams';

const TITLES: Readonly<Record<NotificationType, string>> = {
  'pull.denied': 'Pull denied',
  'breakglass.opened': 'Break glass opened',
  'breakglass.used': 'Pull allowed by break glass',
  'breakglass.ended': 'Break glass ended',
  'key.revoked': 'Trust entry revoked',
  'key.expiring': 'Trust entry expiring',
  'policy.applied': 'Policy applied',
  'scans.stalled': 'Scan queue stalled',
};

/** Longest value shown in a chat message; the generic body keeps everything. */
const MAX_VALUE = 300;

/** One line of text: control characters (newlines included) become spaces, long values are cut. */
function plain(value: unknown): string {
  const text =
    typeof value === 'string'
      ? value
      : Array.isArray(value) && value.every((v) => typeof v === 'string')
        ? value.join(', ')
        : JSON.stringify(value);
  // eslint-disable-next-line no-control-regex
  const line = (text ?? '').replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ');
  return line.length > MAX_VALUE ? `${line.slice(0, MAX_VALUE)}…` : line;
}

/** The facts a chat message lists: the payload's data, in order. */
const facts = (payload: NotificationPayload): [string, string][] =>
  Object.entries(payload.data)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => [plain(k), plain(v)]);

/**
 * Slack mrkdwn: `&`, `<` and `>` are its only control characters (links, mentions such as
 * `<!channel>`); each value also sits in a code span, so `*`, `_` and `~` do not format, and a
 * backtick, which would close it, is replaced by a look-alike.
 */
export const slackText = (value: string): string =>
  `\`${value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/`/g, 'ˋ')}\``;

/** Teams (Adaptive Card TextBlock and FactSet markdown): every punctuation mark markdown reads is backslash-escaped. */
export const teamsText = (value: string): string => value.replace(/[\\`*_{}[\]()#+\-.!|~<>&]/g, (c) => `\\${c}`);

export function render(format: NotificationFormat, payload: NotificationPayload): string {
  if (format === 'generic') return JSON.stringify(payload);
  const title = `${TITLES[payload.type]} (trustgate ${plain(payload.trustgate.instance)})`;
  if (format === 'slack') {
    const lines = facts(payload).map(([k, v]) => `*${k}*: ${slackText(v)}`);
    return JSON.stringify({ text: [`*${slackText(title).slice(1, -1)}*`, ...lines].join('\n') });
  }
  // A Workflows ("When a Teams webhook request is received") or connector webhook: one Adaptive Card.
  return JSON.stringify({
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            { type: 'TextBlock', text: teamsText(title), weight: 'Bolder', size: 'Medium', wrap: true },
            {
              type: 'FactSet',
              facts: [...facts(payload), ['event', payload.id] as [string, string]].map(([k, v]) => ({
                title: teamsText(k),
                value: teamsText(v),
              })),
            },
          ],
        },
      },
    ],
  });
}
