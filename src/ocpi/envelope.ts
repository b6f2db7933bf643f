/** OCPI 2.1.1 status codes (all that 2.1.1 defines and this service uses). */
export const OcpiStatus = {
  SUCCESS: 1000,
  CLIENT_ERROR: 2000,
  INVALID_PARAMETERS: 2001,
  SERVER_ERROR: 3000,
  UNABLE_TO_USE_CLIENT_API: 3001,
  UNSUPPORTED_VERSION: 3002,
  NO_MATCHING_ENDPOINTS: 3003,
} as const;
export type OcpiStatusCode = (typeof OcpiStatus)[keyof typeof OcpiStatus];

/** The envelope of every OCPI response. */
export interface OcpiEnvelope<T = unknown> {
  data?: T;
  status_code: number;
  status_message?: string;
  timestamp: string;
}

/** OCPI DateTime as we emit it: UTC, `YYYY-MM-DDTHH:MM:SSZ`, no fraction, no offset. */
export function ocpiTimestamp(date = new Date()): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

export function ocpiSuccess<T>(data: T): OcpiEnvelope<T> {
  return {
    data,
    status_code: OcpiStatus.SUCCESS,
    status_message: 'Success',
    timestamp: ocpiTimestamp(),
  };
}

export function ocpiError(statusCode: number, message: string): OcpiEnvelope<never> {
  return { status_code: statusCode, status_message: message, timestamp: ocpiTimestamp() };
}
