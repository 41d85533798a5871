import { createHarness, PHONE } from '../support/harness';
import { capturedLogLines, leakedIntoLogs } from '../support/log-hygiene';

/**
 * The logs of a whole flow, refusals and a fault included, name the phone
 * only masked and never carry the code, the token or a secret. (Every
 * integration file is checked the same way after it runs: log-hygiene.ts.)
 */
describe('what the logs say', () => {
  it('masks the phone and leaves out codes, tokens and secrets', async () => {
    const h = await createHarness();
    const before = capturedLogLines().length;
    const { token } = await h.newUser();
    const code = await h.codeFor();
    await h.link(token, { phone: PHONE, code: code === '000000' ? '000001' : '000000' });
    await h.link(token, { phone: PHONE, code });
    await h.send({ signature: '0'.repeat(64) });
    await h.userInfo('forged.token.value');
    h.app.outbox.send = () => Promise.reject(new Error('provider down'));
    h.clock.advance(61_000);
    await h.send();
    const lines = capturedLogLines().slice(before).map((line) => JSON.parse(line) as Record<string, unknown>);

    expect(lines.map((line) => line.message)).toEqual(
      expect.arrayContaining(['SMS code sent', 'Phone linked', 'Refused', 'Refused after a provider fault']),
    );
    expect(lines.find((line) => line.message === 'Phone linked')).toMatchObject({ phone: '+86138****8000', level: 'INFO' });
    expect(lines.every((line) => typeof line.function_request_id === 'string')).toBe(true);
    expect(leakedIntoLogs()).toEqual([]);
    h.close();
  });
});
