import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { useHarness } from './support/harness.js';

// A person's path through Swagger UI in a real browser: authorize with the admin token, create an
// operation with "Try it out", read it back. Needs Debian's chromium (.ci/run installs it).

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = 'test-artifacts';
const browserAvailable = existsSync(CHROMIUM);
if (!browserAvailable) console.warn(`Swagger UI browser test skipped: no Chromium at ${CHROMIUM}`);
const describeWithBrowser = browserAvailable ? describe : describe.skip;

describeWithBrowser('Swagger UI in a real browser', () => {
  const t = useHarness();
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    t.onClose(() => browser.close());
  }, 60_000);

  it('authorizes with the admin token, creates an operation with Try it out, and reads it back', async () => {
    const page = await browser.newPage();
    await page.goto(`${t.baseUrl}/docs`);

    await page.locator('.auth-wrapper button.authorize').click();
    // The admin scheme's form; the OCPI routes' Token scheme has one of its own.
    const admin = page.locator('.auth-container form', { hasText: 'admin (http, Bearer)' });
    await admin.locator('input').first().fill(t.admin.Authorization.replace('Bearer ', ''));
    await admin.locator('button.authorize').click();
    await page.locator('button.btn-done').first().click();

    const create = page.locator('#operations-operations-OperationsController_create');
    await create.locator('.opblock-summary').click();
    await create.locator('button.try-out__btn').click();
    await create
      .locator('textarea.body-param__text')
      .fill(
        JSON.stringify({ operator_id: 'fr*ui1', business_details: { name: 'Made in Swagger UI' } }),
      );
    await create.locator('button.execute').click();
    const status = create.locator('.live-responses-table .response .response-col_status').first();
    await status.waitFor();
    expect((await status.textContent())?.trim()).toBe('201');

    await status.scrollIntoViewIfNeeded();
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}/swagger-ui.png`, fullPage: false });

    const stored = await t.http.get('/admin/operations/FR*UI1').set(t.admin).expect(200);
    expect(stored.body).toMatchObject({
      operator_id: 'FR*UI1',
      business_details: { name: 'Made in Swagger UI' },
    });
    await page.close();
  }, 60_000);
});
