import { formatOperatorId, parseOperatorId } from './operator-id.js';

describe('parseOperatorId', () => {
  it.each([
    ['FR*AB1', 'FR', 'AB1'],
    ['FRAB1', 'FR', 'AB1'],
    ['fr*ab1', 'FR', 'AB1'],
    ['frab1', 'FR', 'AB1'],
    ['Fr*aB1', 'FR', 'AB1'],
    ['DE*ABC', 'DE', 'ABC'],
    ['DE123', 'DE', '123'],
    ['NL*TNM', 'NL', 'TNM'],
    ['BE*0A9', 'BE', '0A9'],
    ['IT*A1B', 'IT', 'A1B'],
    ['GB*ZZZ', 'GB', 'ZZZ'],
    ['ES000', 'ES', '000'],
  ])('reads %s as %s / %s', (input, countryCode, partyId) => {
    expect(parseOperatorId(input)).toEqual({ countryCode, partyId });
  });

  it.each([
    ['', 'empty'],
    ['FR', 'no party'],
    ['FR*', 'separator only'],
    ['FR*AB', 'party too short'],
    ['FR*AB12', 'party too long'],
    ['FRAB12', 'party too long without separator'],
    ['F*AB1', 'country too short'],
    ['FRA*AB1', 'country too long'],
    ['F1*AB1', 'digit in the country'],
    ['XX*AB1', 'not an ISO 3166 country'],
    ['ZZ*AB1', 'not an ISO 3166 country'],
    ['FR-AB1', 'wrong separator'],
    ['FR**AB1', 'two separators'],
    ['FR*A_1', 'underscore in the party'],
    [' FR*AB1', 'leading space'],
    ['FR*AB1 ', 'trailing space'],
    ['FR*AB1*E123', 'an evse id, not an operator id'],
    ['FR*ÀB1', 'non-ASCII letter'],
    ['FR%2AAB1', 'URL-encoded separator'],
    ["FR*AB1'--", 'SQL fragment'],
  ])('refuses %j (%s)', (input) => {
    expect(parseOperatorId(input)).toBeUndefined();
  });
});

describe('formatOperatorId', () => {
  it('writes the eMI3 form with its separator', () => {
    expect(formatOperatorId({ countryCode: 'FR', partyId: 'AB1' })).toBe('FR*AB1');
  });
});
