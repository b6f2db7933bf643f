import type { FieldError } from '../common/errors.js';
import type { AdvertisedEndpointDto } from './dto/advertised-endpoint.dto.js';
import type { OperatorId } from './operator-id.js';

/** OCPI 2.1.1 module ids that another system of the CPO may serve; credentials is ours. */
export const ADVERTISABLE_MODULES = [
  'cdrs',
  'commands',
  'locations',
  'sessions',
  'tariffs',
  'tokens',
];

/**
 * Checks the endpoints an operation advertises besides credentials: known 2.1.1 modules or custom
 * ids carrying the operation's own country and party prefix (as OCPI asks of custom modules), at
 * most one endpoint per id, and exactly one of `url` and `upstream_url` each (the latter only once
 * the gateway has a token to present upstream). Returns one error per bad field.
 */
export function checkAdvertisedEndpoints(
  operator: OperatorId,
  endpoints: AdvertisedEndpointDto[],
  { gatewayConfigured }: { gatewayConfigured: boolean },
): FieldError[] {
  const prefix = `${operator.countryCode}${operator.partyId}-`.toLowerCase();
  const custom = new RegExp(`^${prefix}[a-z0-9][a-z0-9_-]*$`, 'i');
  const seen = new Set<string>();
  const errors: FieldError[] = [];
  endpoints.forEach(({ identifier, url, upstream_url }, index) => {
    if ((url === undefined) === (upstream_url === undefined)) {
      errors.push({
        field: `endpoints[${index}]`,
        message:
          'give exactly one of url (served elsewhere, advertised as is) and upstream_url (served behind the gateway)',
      });
    } else if (upstream_url !== undefined && !gatewayConfigured) {
      errors.push({
        field: `endpoints[${index}].upstream_url`,
        message:
          'this service has no GATEWAY_UPSTREAM_TOKEN to present upstream: set it, restart, then advertise proxied modules',
      });
    }
    const field = `endpoints[${index}].identifier`;
    if (identifier === 'credentials') {
      errors.push({
        field,
        message: 'credentials is served by this service and cannot be advertised',
      });
    } else if (!ADVERTISABLE_MODULES.includes(identifier) && !custom.test(identifier)) {
      errors.push({
        field,
        message: `must be one of ${ADVERTISABLE_MODULES.join(', ')} or a custom id such as ${prefix}chargingprofiles`,
      });
    } else if (seen.has(identifier.toLowerCase())) {
      errors.push({ field, message: `${identifier} is listed more than once` });
    }
    seen.add(identifier.toLowerCase());
  });
  return errors;
}
