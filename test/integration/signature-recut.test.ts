import { signatureOf } from '../support/app-client';
import { refusal } from '../support/envelopes';
import { createHarness, USER_DOMAIN_SECRET, type Harness } from '../support/harness';

/**
 * The signed string is `phone + codeType + random + ts + secret`, with no
 * separator. Unless each field's format fixes its length, a captured request
 * can be cut at other boundaries into another request with the same
 * signature (issue 13, item 5). German mobile numbers vary in length, so a
 * number one digit shorter is still a valid neighbour.
 */
describe('a captured send request re-cut at other field boundaries', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(() => h.close());

  // The captured request: a German phone ending in 6, a `random` ending in 0.
  const capturedPhone = '17612345676';
  const capturedRandom = 'Kx7Qm2Vb9Lp4Rt80';
  const neighbourPhone = capturedPhone.slice(0, -1);

  it('answers 400 "Invalid parameter: ts" and sends nothing to the neighbouring number', async () => {
    const captured = h.sendQuery({ phone: capturedPhone, internationalCode: '49', codeType: '3', random: capturedRandom });
    expect((await h.sendRaw(captured)).code).toBe(200);

    // Drop the phone's last digit (it becomes codeType 6, the alias of 3),
    // shift `random` right by one (it starts with the old codeType and drops
    // its trailing 0), and put that 0 in front of `ts`.
    const recut = {
      ...captured,
      phone: neighbourPhone,
      codeType: capturedPhone.slice(-1),
      random: `${captured.codeType}${capturedRandom.slice(0, -1)}`,
      ts: `${capturedRandom.slice(-1)}${captured.ts}`,
    };
    // The premise: the same signature covers both cuts, and the new random is fresh.
    expect(signatureOf(recut, USER_DOMAIN_SECRET)).toBe(captured.signature);
    expect(recut.random).toHaveLength(16);
    expect(recut.random).not.toBe(captured.random);

    const before = await h.snapshot();
    const answer = await h.sendRaw(recut);

    expect(answer).toEqual(refusal(400, 'Invalid parameter: ts'));
    expect(h.app.outbox.messagesTo(`+49${neighbourPhone}`)).toEqual([]);
    expect(await h.snapshot()).toEqual(before);
  });
});
