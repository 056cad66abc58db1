// Clicks through the de-identification buttons of Orthanc Explorer in
// Debian's headless chromium (playwright-core, executablePath: no browser
// download). Started by explorer_browser.py with a scenario file (the Orthanc
// URL, the IDs of the uploaded resources, key files); prints one line per
// step, saves a screenshot of each step, and ends with one JSON line of
// results. Exit code 0 when every step passed.
'use strict';

const assert = require('assert');
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const scenario = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const base = scenario.url;
const shots = scenario.screenshots;
const TIMEOUT = 20000;
const results = {};

let stepNumber = 0;
let page = null;

async function rest(method, uri, body) {
  const response = await fetch(base + uri, {
    method: method,
    body: body === undefined ? undefined : JSON.stringify(body)
  });
  const text = await response.text();
  if (!response.ok) {
    throw new Error(method + ' ' + uri + ' -> ' + response.status + ': ' + text);
  }
  return JSON.parse(text);
}

async function screenshot(name) {
  stepNumber++;
  const file = path.join(shots, String(stepNumber).padStart(2, '0') + '-' + name + '.png');
  await page.screenshot({ path: file });
  return file;
}

// The open dialog alone, for the README (Resources/Screenshots/).
async function dialogScreenshot(name, selector) {
  fs.mkdirSync(path.join(shots, 'dialogs'), { recursive: true });
  await page.locator(selector || '#deid-dialog .deid-dialog')
    .screenshot({ path: path.join(shots, 'dialogs', name + '.png') });
}

async function step(name, body) {
  const started = Date.now();
  try {
    await body();
    console.log('ok   ' + name + ' (' + (Date.now() - started) + ' ms)');
  } catch (e) {
    console.log('FAIL ' + name + ': ' + (e && e.stack ? e.stack : e));
    if (page !== null) {
      try {
        await page.screenshot({ path: path.join(shots, 'FAILED-' + name.replace(/\W+/g, '-') + '.png') });
      } catch (ignored) {
        // the page may be gone
      }
    }
    throw e;
  }
}

// Opens a resource page of Orthanc Explorer and waits for our buttons.
async function openPage(level, id) {
  await page.goto('about:blank');
  await page.goto(base + '/app/explorer.html#' + level + '?uuid=' + id);
  await page.waitForSelector('#' + level + '.ui-page-active', { timeout: TIMEOUT });
  await page.waitForSelector('#deid-' + level + '-deidentify', { state: 'visible', timeout: TIMEOUT });
  // Our pagebeforeshow handler asks the capabilities: let it settle.
  await page.waitForFunction(() => window.jQuery && window.jQuery.active === 0, null, { timeout: TIMEOUT });
}

// Orthanc Explorer sets its global currentUuid once it has shown a resource.
async function waitForResource(level, id) {
  await page.waitForFunction((args) => window.currentUuid === args.id &&
                             window.jQuery('#' + args.level).hasClass('ui-page-active'),
                             { level: level, id: id }, { timeout: TIMEOUT });
  await page.waitForFunction(() => window.jQuery.active === 0, null, { timeout: TIMEOUT });
}

async function isVisible(selector) {
  return page.isVisible(selector);
}

async function waitForOptions() {
  await page.waitForSelector('#deid-option-list input', { timeout: TIMEOUT });
  await page.waitForSelector('#deid-profile option', { state: 'attached', timeout: TIMEOUT });
}

async function errorText() {
  await page.waitForSelector('#deid-error', { state: 'visible', timeout: TIMEOUT });
  return (await page.textContent('#deid-error')).trim();
}

async function main() {
  fs.mkdirSync(shots, { recursive: true });
  const browser = await chromium.launch({
    executablePath: scenario.chromium || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage']
  });
  const alerts = [];
  const pageErrors = [];
  try {
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.setDefaultTimeout(TIMEOUT);
    page.on('dialog', async (d) => {
      alerts.push(d.message());
      await d.dismiss();
    });
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    const capabilities = await rest('GET', '/deidentification/capabilities');

    await step('study page shows the buttons', async () => {
      await openPage('study', scenario.study);
      assert.strictEqual(await isVisible('#deid-study-deidentify'), true);
      assert.strictEqual(await isVisible('#deid-study-send'), !!capabilities.Send,
                         'Send shows exactly when the send route exists');
      assert.strictEqual(await isVisible('#deid-study-reidentify'), false,
                         'no Re-identify on a study that is not de-identified');
      await screenshot('study-page-buttons');
      await dialogScreenshot('study-page-buttons', '#study .ui-block-a');
    });

    await step('patient and series pages show the buttons', async () => {
      const study = await rest('GET', '/studies/' + scenario.study);
      await openPage('patient', study.ParentPatient);
      assert.strictEqual(await isVisible('#deid-patient-reidentify'), false);
      await openPage('series', study.Series[0]);
      await openPage('study', scenario.study);
    });

    await step('De-identify with a chosen option', async () => {
      await page.click('#deid-study-deidentify');
      await waitForOptions();
      await page.selectOption('#deid-profile', 'basic');
      await page.check('input[name=deid-option][value=RetainPatientCharacteristics]');
      assert.match(await page.textContent('#deid-option-list'), /RetainPatientCharacteristics\s*113108/);
      // A project that is not configured: the server's message shows.
      await page.fill('#deid-project', 'nosuchproject');
      await page.click('#deid-start');
      assert.match(await errorText(), /Unknown de-identification project "nosuchproject".*\[POST \/studies\/.*HTTP 400\]/);
      await screenshot('deidentify-unknown-project');
      await dialogScreenshot('deidentify-unknown-project');
      await page.fill('#deid-project', 'explorer');
      await screenshot('deidentify-dialog');
      await page.click('#deid-start');
      await page.waitForSelector('#deid-result-link', { state: 'visible', timeout: TIMEOUT });
      const progress = await page.textContent('#deid-progress-text');
      assert.match(progress, /Success, 100% of 3 instances/);
      const jobId = /Job ([0-9a-f-]+):/.exec(progress)[1];
      const job = await rest('GET', '/jobs/' + jobId);
      assert.deepStrictEqual(job.Content.Options, ['RetainPatientCharacteristics']);
      assert.strictEqual(job.Content.Profile, 'basic');
      results.deidentifiedStudy = job.Content.Resources[0].ID;
      await screenshot('deidentify-done');
      await dialogScreenshot('deidentify-done');
    });

    await step('the new study carries no original patient name', async () => {
      await page.click('#deid-result-link');
      await waitForResource('study', results.deidentifiedStudy);
      assert.strictEqual(await isVisible('#deid-dialog'), false, 'the dialog closes on the link');
      const text = await page.textContent('#study');
      assert.ok(!text.includes(scenario.originalName), 'original patient name on the new study page');
      assert.ok(!text.includes(scenario.originalId), 'original patient ID on the new study page');
      await page.waitForSelector('#deid-study-deidentify', { state: 'visible' });
      await screenshot('deidentified-study');
    });

    await step('preview lists every changed element', async () => {
      await openPage('instance', scenario.instance);
      await page.click('#deid-instance-preview');
      await page.waitForSelector('#deid-preview-rows tr', { timeout: TIMEOUT });
      const head = await page.$$eval('#deid-preview-head th', (ths) => ths.map((th) => th.textContent));
      assert.deepStrictEqual(head.slice(0, 7), ['Tag', 'Name', 'Path', 'Action', 'Option', 'Before', 'After']);
      const rows = await page.$$eval('#deid-preview-rows tr', (trs) => trs.map((tr) =>
        Array.from(tr.children).map((td) => td.textContent)));
      const answer = await rest('POST', '/instances/' + scenario.instance + '/deidentify/preview', { Profile: 'basic' });
      assert.strictEqual(rows.length, answer.length, 'one row per changed element');
      const name = rows.find((r) => r[0] === '(0010,0010)');
      assert.ok(name, 'a row for PatientName');
      assert.strictEqual(name[1], 'PatientName');
      assert.strictEqual(name[5], scenario.originalName);
      assert.notStrictEqual(name[6], scenario.originalName);
      assert.match(await page.textContent('#deid-preview-summary'), new RegExp('^' + answer.length + ' elements'));
      results.previewRows = rows.length;
      await screenshot('preview');

      // Another option, previewed again from the dialog.
      await page.check('input[name=deid-option][value=RetainLongitudinalModifiedDates]');
      await page.click('#deid-preview-start');
      await page.waitForFunction(() => Array.from(document.querySelectorAll('#deid-preview-rows tr'))
        .some((tr) => tr.children[4].textContent === 'RetainLongitudinalModifiedDates'), null, { timeout: TIMEOUT });
    });

    for (const variant of [
      { instance: scenario.xssScriptInstance, name: scenario.xssScriptName, shot: 'preview-script-name' },
      { instance: scenario.xssImgInstance, name: scenario.xssImgName, shot: 'preview-img-name' }]) {
      await step('markup in ' + variant.shot + ' shows as text and runs nothing', async () => {
        await openPage('instance', variant.instance);
        await page.click('#deid-instance-preview');
        await page.waitForSelector('#deid-preview-rows tr', { timeout: TIMEOUT });
        const before = await page.$$eval('#deid-preview-rows tr', (trs) => trs.map((tr) => tr.children[5].textContent));
        assert.ok(before.includes(variant.name), 'the patient name shows literally: ' + JSON.stringify(before));
        if (variant.instance === scenario.xssScriptInstance) {
          assert.ok(before.includes(scenario.xssImgDescription), 'the description shows literally');
        }
        assert.strictEqual(await page.$$eval('#deid-root script, #deid-root img', (n) => n.length), 0,
                           'no element made from a value');
        await page.waitForTimeout(300);   // an onerror handler would have run by now
        assert.strictEqual(await page.evaluate(() => window.__xss), undefined, 'a value ran as script');
        assert.deepStrictEqual(alerts, []);
        await screenshot(variant.shot);
        await dialogScreenshot(variant.shot);
      });
    }

    await step('a failing request shows the server message', async () => {
      await openPage('study', scenario.reversibleStudy);
      await page.waitForSelector('#deid-study-reidentify', { state: 'visible', timeout: TIMEOUT });
      await dialogScreenshot('deidentified-study-buttons', '#study .ui-block-a');
      await page.click('#deid-study-reidentify');
      await page.click('#deid-reidentify-start');
      assert.match(await errorText(), /Choose the private key file/);
      await page.setInputFiles('#deid-key-file', scenario.strangerKey);
      await page.click('#deid-reidentify-start');
      const message = await errorText();
      let expected = null;
      const response = await fetch(base + '/studies/' + scenario.reversibleStudy + '/reidentify', {
        method: 'POST', body: JSON.stringify({ PrivateKey: fs.readFileSync(scenario.strangerKey, 'utf8') })
      });
      if (response.status >= 400) {
        expected = (await response.json()).Details;
      }
      if (expected) {
        assert.ok(message.includes(expected), message + ' does not hold ' + expected);
      } else {
        assert.match(message, /job failed/i);
      }
      assert.strictEqual(await page.inputValue('#deid-key-file'), '', 'the key is dropped from the page');
      results.failureMessage = message;
      await screenshot('reidentify-wrong-key');
      await dialogScreenshot('reidentify-wrong-key');
    });

    await step('Re-identify with the right key', async () => {
      await page.setInputFiles('#deid-key-file', scenario.custodianKey);
      await page.click('#deid-reidentify-start');
      await page.waitForSelector('#deid-result-link', { state: 'visible', timeout: TIMEOUT });
      await screenshot('reidentify-done');
      await dialogScreenshot('reidentify-done');
      const restored = await page.getAttribute('#deid-result-link', 'href');
      await page.click('#deid-result-link');
      await waitForResource('study', /uuid=(.*)$/.exec(restored)[1]);
      assert.ok((await page.textContent('#study-info')).includes(scenario.originalName),
                'the re-identified study shows the original name');
    });

    await step('Re-identify one instance', async () => {
      const instance = (await rest('GET', '/studies/' + scenario.reversibleStudy + '/instances'))[0].ID;
      await openPage('instance', instance);
      await page.waitForSelector('#deid-instance-reidentify', { state: 'visible', timeout: TIMEOUT });
      await page.click('#deid-instance-reidentify');
      await page.setInputFiles('#deid-key-file', scenario.custodianKey);
      await page.click('#deid-reidentify-start');
      await page.waitForSelector('#deid-result-link', { state: 'visible', timeout: TIMEOUT });
      const href = await page.getAttribute('#deid-result-link', 'href');
      const restored = await rest('GET', '/instances/' + /uuid=(.*)$/.exec(href)[1] + '/patient');
      assert.strictEqual(restored.MainDicomTags.PatientName, scenario.originalName);
    });

    await step('unknown resource: the message says so', async () => {
      const series = (await rest('GET', '/studies/' + scenario.study)).Series[0];
      const copy = await rest('POST', '/series/' + series + '/modify', { Replace: { SeriesDescription: 'copy' } });
      await openPage('series', copy.ID);
      await page.click('#deid-series-deidentify');
      await waitForOptions();
      // The series is deleted while the dialog is open.
      await fetch(base + '/series/' + copy.ID, { method: 'DELETE' });
      await page.click('#deid-start');
      const message = await errorText();
      assert.match(message, /HTTP 404/);
      assert.ok(message.includes(copy.ID), 'the message names the resource: ' + message);
      await screenshot('error-unknown-series');
    });

    if (capabilities.Send) {
      await step('Send de-identified to a modality', async () => {
        // A destination removed from Orthanc while the dialog is open.
        await fetch(base + '/modalities/gone', {
          method: 'PUT', body: JSON.stringify({ AET: 'GONE', Host: '127.0.0.1', Port: 9 })
        });
        await openPage('study', scenario.study);
        assert.strictEqual(await isVisible('#deid-study-send'), true);
        await page.click('#deid-study-send');
        await page.waitForSelector('#deid-destination option[data-kind]', { state: 'attached' });
        const destinations = await page.$$eval('#deid-destination option[data-kind]', (options) =>
          options.map((o) => o.getAttribute('data-kind') + ':' + o.textContent));
        assert.ok(destinations.includes('Modality:trial'), JSON.stringify(destinations));
        await page.selectOption('#deid-destination', { label: 'gone' });
        await fetch(base + '/modalities/gone', { method: 'DELETE' });
        await page.click('#deid-send-start');
        const message = await errorText();
        assert.match(message, /gone/);
        assert.match(message, /HTTP 404/);
        results.sendFailureMessage = message;
        await screenshot('send-unknown-destination');
        await dialogScreenshot('send-unknown-destination');

        if (capabilities.RulesTest) {
          // No rule covers "pacs": the dialog says so before anything is sent.
          await page.selectOption('#deid-destination', { label: 'pacs' });
          await page.waitForSelector('#deid-rule .deid-refused');
          assert.match(await page.textContent('#deid-rule'), /no rule covers Modality "pacs"/);
          await dialogScreenshot('send-refused');
          await page.click('#deid-send-start');
          const refused = await errorText();
          assert.match(refused, /^The job failed: 3 instance\(s\) refused by the rules\n- instance [0-9a-f-]+ is not sent to Modality "pacs": no rule covers Modality "pacs"/);
          await dialogScreenshot('send-refused-job');
        }
        await page.selectOption('#deid-destination', { label: 'trial' });
        if (capabilities.RulesTest) {
          await page.waitForSelector('#deid-rule .deid-allowed');
          assert.match(await page.textContent('#deid-rule .deid-allowed'), /for all 3 instance/);
          const rule = await page.textContent('#deid-rule table[data-rule="trial-images"]');
          assert.match(rule, /Profile\s*research/);
          assert.match(rule, /Project\s*explorer/);
        } else {
          assert.match(await page.textContent('#deid-rule'), /cannot tell which rule applies/);
        }
        await page.click('#deid-send-start');
        await page.waitForSelector('#deid-send-done', { state: 'visible', timeout: TIMEOUT });
        assert.match(await page.textContent('#deid-send-done'), /Sent to Modality "trial": 3 instance\(s\) sent/);
        results.sent = true;
        await screenshot('send-done');
        await dialogScreenshot('send-done');
      });
    }

    assert.deepStrictEqual(pageErrors, [], 'JavaScript errors in the page');
    assert.deepStrictEqual(alerts, []);
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(results));
}

main().catch(() => {
  process.exitCode = 1;
});
