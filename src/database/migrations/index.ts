import { OperationsAndConnections1764000000000 } from './1764000000000-operations-and-connections.js';
import { TokensAndHandshakes1764100000000 } from './1764100000000-tokens-and-handshakes.js';
import { AuthChangeNotifications1764200000000 } from './1764200000000-auth-change-notifications.js';
import { ConnectionEnded1764300000000 } from './1764300000000-connection-ended.js';
import { AuthFailures1764400000000 } from './1764400000000-auth-failures.js';
import { HistoryRetention1764500000000 } from './1764500000000-history-retention.js';
import { ConnectionChangeNotifications1764600000000 } from './1764600000000-connection-change-notifications.js';
import { Outbox1764700000000 } from './1764700000000-outbox.js';

/** Every migration, oldest first. `npm run migration:generate` writes new ones; list them here. */
export const migrations = [
  OperationsAndConnections1764000000000,
  TokensAndHandshakes1764100000000,
  AuthChangeNotifications1764200000000,
  ConnectionEnded1764300000000,
  AuthFailures1764400000000,
  HistoryRetention1764500000000,
  ConnectionChangeNotifications1764600000000,
  Outbox1764700000000,
];
