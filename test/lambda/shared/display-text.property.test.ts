// The warm path's shortcuts for plain text give what the general code gives: displayLine's trim for a plain line,
// and the metric graph's one-pass encoding of its strings (against the two regex passes they replaced).
import fc from 'fast-check';
import { metricConsoleUrl } from '../../../lambda/messages/console-links';
import { displayLine, wellFormed } from '../../../lambda/shared/text';
import { alarm, lambdaErrors } from '../../support/notifications';

const general = (text: string) =>
  wellFormed(text)
    .replace(/\p{Cf}/gu, '')
    .replace(/[\p{Cc}\p{Zl}\p{Zp}\s]+/gu, ' ')
    .trim();
const encodedBefore = (text: string) =>
  encodeURIComponent(wellFormed(text))
    .replace(/[~'()*!]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%/g, '*');

// Plain characters, spaces in runs, and the ones that are not plain: controls, format, other spaces, surrogates.
const character = fc.constantFrom(
  ..."aZ09 -_.~()*!%'/:=—…→é€\t\n\r\u0000\u007f\u0085\u00a0\u00ad\u200b\u200e\u202e\u2028\u3000\ufeff\ud83d\ude00\ud800",
);
const mixed = fc.array(character, { maxLength: 40 }).map((chars) => chars.join(''));

describe('display text on the warm path', () => {
  it('displayLine equals the general cleaning for any text', () => {
    fc.assert(
      fc.property(fc.oneof(mixed, fc.string({ unit: 'binary', maxLength: 40 })), (text) => {
        expect(displayLine(text)).toBe(general(text));
      }),
      { numRuns: 5000 },
    );
  });

  it('the metric graph encodes every name and value as before', () => {
    fc.assert(
      fc.property(mixed, mixed, (metricName, value) => {
        const url = metricConsoleUrl(
          alarm({
            condition: {
              ...lambdaErrors,
              metric: { ...lambdaErrors.metric, metricName, dimensions: [{ name: 'FunctionName', value }] },
            },
          }),
        );
        expect(url).toContain(
          `(~'${encodedBefore('AWS/Lambda')}~'${encodedBefore(metricName)}~'FunctionName~'${encodedBefore(value)}~`,
        );
      }),
      { numRuns: 2000 },
    );
  });
});
