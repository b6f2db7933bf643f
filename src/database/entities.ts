import { Connection } from '../handshake/connection.entity.js';
import { Operation } from '../operations/operation.entity.js';

/** Every entity, so that the app and the migration CLI see the same model. */
export const entities = [Operation, Connection];
