import { IssuedToken } from '../credentials/issued-token.entity.js';
import { Connection } from '../handshake/connection.entity.js';
import { Handshake } from '../handshake/handshake.entity.js';
import { Operation } from '../operations/operation.entity.js';

/** Every entity, so that the app and the migration CLI see the same model. */
export const entities = [Operation, Connection, IssuedToken, Handshake];
