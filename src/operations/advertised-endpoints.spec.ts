import { checkAdvertisedEndpoints } from './advertised-endpoints.js';

const FR_AB1 = { countryCode: 'FR', partyId: 'AB1' };
const at = (identifier: string) => ({ identifier, url: `https://cpo.example/${identifier}` });

describe('checkAdvertisedEndpoints', () => {
  it.each([
    'cdrs',
    'commands',
    'locations',
    'sessions',
    'tariffs',
    'tokens',
    'frab1-chargingprofiles',
    'FRAB1-hubclientinfo',
  ])('accepts %s', (identifier) => {
    expect(checkAdvertisedEndpoints(FR_AB1, [at(identifier)])).toEqual([]);
  });

  it.each([
    ['credentials', /served by this service/],
    ['Locations', /must be one of/],
    ['chargingprofiles', /custom id such as frab1-chargingprofiles/],
    ['deab1-chargingprofiles', /must be one of/],
    ['frab1-', /must be one of/],
  ])('refuses %s', (identifier, message) => {
    expect(checkAdvertisedEndpoints(FR_AB1, [at(identifier)])).toEqual([
      { field: 'endpoints[0].identifier', message: expect.stringMatching(message) },
    ]);
  });

  it('names the second of two entries for one module', () => {
    expect(checkAdvertisedEndpoints(FR_AB1, [at('tokens'), at('cdrs'), at('tokens')])).toEqual([
      { field: 'endpoints[2].identifier', message: 'tokens is listed more than once' },
    ]);
  });
});
