// The API's own documentation renders with no network: Swagger UI and ReDoc come from
// this server, and a request addressed anywhere else is cut off (and must not be made).

import { expect, test, type Page } from "@playwright/test";

/** Cut the page off from everything but `origin`; the list fills with what it asked for. */
async function offline(page: Page, origin: string): Promise<string[]> {
  const elsewhere: string[] = [];
  await page.route("**/*", async (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) {
      await route.continue();
    } else {
      elsewhere.push(url);
      await route.abort("internetdisconnected");
    }
  });
  return elsewhere;
}

function failures(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  return errors;
}

test("Swagger UI at /docs renders from this server alone", async ({ page, baseURL }) => {
  const elsewhere = await offline(page, new URL(baseURL ?? "").origin);
  const errors = failures(page);
  await page.goto("/docs");
  await expect(page.locator(".swagger-ui .info .title")).toContainText("CIFT Markets API");
  await expect(page.locator(".opblock").first()).toBeVisible();
  await page.screenshot({ path: "test-results/api-docs-swagger.png" });
  expect(elsewhere).toEqual([]);
  expect(errors).toEqual([]);
});

test("ReDoc at /redoc renders from this server alone", async ({ page, baseURL }) => {
  const elsewhere = await offline(page, new URL(baseURL ?? "").origin);
  const errors = failures(page);
  await page.goto("/redoc");
  await expect(page.getByRole("heading", { level: 1 })).toContainText("CIFT Markets API");
  await page.screenshot({ path: "test-results/api-docs-redoc.png" });
  expect(elsewhere).toEqual([]);
  expect(errors).toEqual([]);
});
