import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { payloadOf } from '../../src/notify/event.ts';
import { createNotifier } from '../../src/notify/notifier.ts';
import { createMemoryQueue } from '../../src/notify/queue.ts';
import { render } from '../../src/notify/render.ts';
import { endpointConfig, notificationsConfig, recordingLogger, startReceiver, until, type Receiver } from './kit.ts';

// A name or reason from outside, written to format, link, mention and add lines in a chat message.
const HOSTILE = 'evil.io/<!channel> *bold* _it_ ~s~ `code` & [click](https://evil.example) <https://evil.example|x>\n# injected line';
const payload = payloadOf(
  {
    id: 'e1',
    type: 'pull.denied',
    time: 0,
    data: { image: HOSTILE, reason: 'unsigned', reasons: [{ code: 'unsigned', message: HOSTILE }] },
  },
  'replica-1',
);

describe('chat formats render outside text as text', () => {
  it('slack: &, < and > escaped, each value in a code span with no backtick inside, one line each', () => {
    const { text } = JSON.parse(render('slack', payload)) as { text: string };
    assert.doesNotMatch(text, /<!channel>|<https:/, 'no mention, no link');
    assert.match(text, /&lt;!channel&gt;/);
    assert.match(text, /&amp;/);
    const imageLine = text.split('\n').find((l) => l.startsWith('*image*'))!;
    assert.match(imageLine, /^\*image\*: `[^`]*`$/, 'the value is one code span');
    assert.ok(imageLine.includes('# injected line'), 'the newline became a space, on the same line');
    assert.equal(text.split('\n').filter((l) => l.startsWith('# injected')).length, 0);
  });

  it('teams: an Adaptive Card whose values escape every markdown mark', () => {
    const card = JSON.parse(render('teams', payload)) as {
      attachments: {
        contentType: string;
        content: { type: string; body: { type: string; facts?: { title: string; value: string }[] }[] };
      }[];
    };
    const content = card.attachments[0]!.content;
    assert.equal(card.attachments[0]!.contentType, 'application/vnd.microsoft.card.adaptive');
    assert.equal(content.type, 'AdaptiveCard');
    const image = content.body.find((b) => b.type === 'FactSet')!.facts!.find((f) => f.title === 'image')!.value;
    assert.ok(image.includes('\\[click\\]\\(https://evil\\.example\\)'), image);
    assert.ok(image.includes('\\*bold\\*') && image.includes('\\_it\\_') && image.includes('\\<\\!channel\\>'), image);
    assert.doesNotMatch(image, /(^|[^\\])[[\]()*_<>`]/, 'no unescaped mark');
    assert.doesNotMatch(image, /\n/);
  });

  it('generic: the payload as JSON, unchanged', () => {
    assert.deepEqual(JSON.parse(render('generic', payload)), JSON.parse(JSON.stringify(payload)));
  });
});

describe('a slack endpoint, end to end', () => {
  let r: Receiver;
  after(() => r.close());
  it('posts { text } with no signature when it has no secret', async () => {
    r = await startReceiver();
    const n = createNotifier({
      config: notificationsConfig([endpointConfig(r.url, { format: 'slack', secret: undefined })]),
      queue: createMemoryQueue(10),
      logger: recordingLogger(),
      now: Date.now,
      instance: 'replica-1',
      pollMs: 20,
    });
    n.start();
    n.emit({ id: 'e2', type: 'breakglass.opened', time: Date.now(), data: { image: HOSTILE } });
    await until(() => r.received.length === 1);
    await n.close();
    const got = r.received[0]!;
    assert.equal(got.headers['x-trustgate-signature'], undefined);
    const body = JSON.parse(got.body.toString()) as { text: string };
    assert.match(body.text, /^\*Break glass opened \(trustgate replica-1\)\*/);
    assert.doesNotMatch(body.text, /<!channel>/);
  });
});
