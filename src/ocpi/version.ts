/** The only OCPI version this service speaks. */
export const OCPI_VERSION = '2.1.1';
