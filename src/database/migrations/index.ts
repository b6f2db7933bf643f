import { OperationsAndConnections1764000000000 } from './1764000000000-operations-and-connections.js';
import { TokensAndHandshakes1764100000000 } from './1764100000000-tokens-and-handshakes.js';
import { AuthChangeNotifications1764200000000 } from './1764200000000-auth-change-notifications.js';
import { ConnectionEnded1764300000000 } from './1764300000000-connection-ended.js';
import { AuthFailures1764400000000 } from './1764400000000-auth-failures.js';
import { HistoryRetention1764500000000 } from './1764500000000-history-retention.js';
import { ConnectionChangeNotifications1764600000000 } from './1764600000000-connection-change-notifications.js';
import { ConnectionHealth1764800000000 } from './1764800000000-connection-health.js';
import { AccessKeysAndOrganisations1764900000000 } from './1764900000000-access-keys-and-organisations.js';
import { Outbox1765000000000 } from './1765000000000-outbox.js';
import { OutboxWakeOnNewHeads1765100000000 } from './1765100000000-outbox-wake-on-new-heads.js';

/** Every migration, oldest first. `npm run migration:generate` writes new ones; list them here. */
export const migrations = [
  OperationsAndConnections1764000000000,
  TokensAndHandshakes1764100000000,
  AuthChangeNotifications1764200000000,
  ConnectionEnded1764300000000,
  AuthFailures1764400000000,
  HistoryRetention1764500000000,
  ConnectionChangeNotifications1764600000000,
  ConnectionHealth1764800000000,
  AccessKeysAndOrganisations1764900000000,
  Outbox1765000000000,
  OutboxWakeOnNewHeads1765100000000,
];
