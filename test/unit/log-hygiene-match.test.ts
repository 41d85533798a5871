import { shows } from '../support/log-match';

describe('what counts as a sensitive value in a log line', () => {
  it.each([
    ['{"code":"160124"}', '160124'],
    ['wrong code 160124 for +86138****8000', '160124'],
    ['{"x":160124}', '160124'],
    ['{"phone":"+8613800138000"}', '13800138000'],
    ['{"auth":"Bearer eyJhbGciOi.payload.sig"}', 'eyJhbGciOi.payload.sig'],
  ])('%s shows %s', (line, value) => {
    expect(shows(line, value)).toBe(true);
  });

  it.each([
    ['{"function_request_id":"5f160124-9a1b-4c2d-8e3f-0a1b2c3d4e5f"}', '160124'],
    ['{"timestamp":1764497160124}', '160124'],
    ['{"uid":"a160124b"}', '160124'],
  ])('%s does not show %s: a short value inside a longer word is chance', (line, value) => {
    expect(shows(line, value)).toBe(false);
  });
});
