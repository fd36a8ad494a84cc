// Sign-in and screenshots shared by the end-to-end tests.

import { expect } from "@playwright/test";
import type { Page } from "@playwright/test";

export const USER = process.env.CIFT_E2E_USER ?? "local";
export const PASSWORD = process.env.CIFT_E2E_PASSWORD ?? "";
export const SHOTS = process.env.CIFT_E2E_SHOTS ?? "test-results/screenshots";

export async function signIn(page: Page, user = USER, password = PASSWORD): Promise<void> {
  await page.goto("/");
  await page.getByLabel("User name or e-mail").fill(user);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
}

export async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${SHOTS}/${name}.png` });
}

/** Console errors (a refused script or style, a crash) collected while a test runs. */
export function consoleErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  return errors;
}
