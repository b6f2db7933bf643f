import { ApiKey } from './access/api-key.entity.js';
import { Organisation } from './operations/organisation.entity.js';
import { Handshake } from './handshake/handshake.entity.js';
import { Connection } from './operations/connection.entity.js';
import { Operation } from './operations/operation.entity.js';
import { Delivery } from './outbox/delivery.entity.js';
import { Webhook } from './webhooks/webhook.entity.js';
import { IssuedToken } from './tokens/issued-token.entity.js';

/** Every entity, so that the app and the migration CLI see the same model. */
export const entities = [
  Operation,
  Connection,
  IssuedToken,
  Handshake,
  Organisation,
  ApiKey,
  Delivery,
  Webhook,
];
