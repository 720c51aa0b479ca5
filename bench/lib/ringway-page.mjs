/** Ringway's softphone page of the gateway on `port`, as `user` in a browser context of its own, once registered. */
export async function openRingwayPage(browser, port, user) {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`http://127.0.0.1:${port}/?user=${user}`);
  await page.waitForFunction(
    () => document.getElementById('registration-state')?.textContent === 'registered',
  );
  return page;
}
