import { checkAdvertisedEndpoints } from './advertised-endpoints.js';

const FR_AB1 = { countryCode: 'FR', partyId: 'AB1' };
const GATEWAY = { gatewayConfigured: true };
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
    expect(checkAdvertisedEndpoints(FR_AB1, [at(identifier)], GATEWAY)).toEqual([]);
  });

  it.each([
    ['credentials', /served by this service/],
    ['Locations', /must be one of/],
    ['chargingprofiles', /custom id such as frab1-chargingprofiles/],
    ['deab1-chargingprofiles', /must be one of/],
    ['frab1-', /must be one of/],
  ])('refuses %s', (identifier, message) => {
    expect(checkAdvertisedEndpoints(FR_AB1, [at(identifier)], GATEWAY)).toEqual([
      { field: 'endpoints[0].identifier', message: expect.stringMatching(message) },
    ]);
  });

  it('names the second of two entries for one module', () => {
    expect(
      checkAdvertisedEndpoints(FR_AB1, [at('tokens'), at('cdrs'), at('tokens')], GATEWAY),
    ).toEqual([{ field: 'endpoints[2].identifier', message: 'tokens is listed more than once' }]);
  });

  it('takes a module behind the gateway', () => {
    const proxied = { identifier: 'locations', upstream_url: 'http://locations.internal/ocpi' };
    expect(checkAdvertisedEndpoints(FR_AB1, [proxied], GATEWAY)).toEqual([]);
  });

  it.each([
    [{ identifier: 'locations' }],
    [{ identifier: 'locations', url: 'https://a.example', upstream_url: 'http://b.internal' }],
  ])('wants exactly one of url and upstream_url: %j', (endpoint) => {
    expect(checkAdvertisedEndpoints(FR_AB1, [endpoint], GATEWAY)).toEqual([
      { field: 'endpoints[0]', message: expect.stringMatching(/exactly one of url/) },
    ]);
  });

  it('refuses a module behind the gateway while the gateway has no upstream token', () => {
    const proxied = { identifier: 'locations', upstream_url: 'http://locations.internal/ocpi' };
    expect(checkAdvertisedEndpoints(FR_AB1, [proxied], { gatewayConfigured: false })).toEqual([
      {
        field: 'endpoints[0].upstream_url',
        message: expect.stringMatching(/GATEWAY_UPSTREAM_TOKEN/),
      },
    ]);
  });
});
