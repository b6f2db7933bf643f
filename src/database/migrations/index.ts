import { OperationsAndConnections1764000000000 } from './1764000000000-operations-and-connections.js';

/** Every migration, oldest first. `npm run migration:generate` writes new ones; list them here. */
export const migrations = [OperationsAndConnections1764000000000];
