/** What GET versions answers for one operation: the bare servers answer the same bytes' shape. */
export function versionsBody(publicUrl: string): object {
  return {
    data: [{ version: '2.1.1', url: `${publicUrl}/ocpi/FR/AB1/2.1.1` }],
    status_code: 1000,
    status_message: 'Success',
    timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}
