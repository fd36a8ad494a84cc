// A viewer reads everything and is offered no button that trades.

import { expect, test } from "@playwright/test";
import { signIn } from "./session";

const VIEWER = process.env.CIFT_E2E_VIEWER ?? "";

test("a viewer sees runs and accounts but no trading buttons", async ({ page }) => {
  test.skip(!VIEWER, "CIFT_E2E_VIEWER names a viewer to sign in as");
  await signIn(page, VIEWER);
  await page.getByRole("link", { name: "Backtests" }).click();
  await expect(page.getByRole("table", { name: /Recorded runs/ })).toBeVisible();
  await expect(page.getByRole("form", { name: "New backtest" })).toHaveCount(0);
  await page.getByRole("link", { name: "Trading" }).click();
  await expect(page.getByRole("heading", { name: "Trading" })).toBeVisible();
  await expect(page.getByRole("button", { name: /Place order|Halt this account|Open account/ })).toHaveCount(0);
  await page.getByRole("link", { name: "Alerts" }).click();
  await expect(page.getByRole("form", { name: "New rule" })).toHaveCount(0);
});
