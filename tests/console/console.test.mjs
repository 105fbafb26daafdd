// Browser test of the registry console (nginx/console) through nginx, with
// Debian's chromium driven by playwright-core.
//
//   IMAGEREG_URL=http://127.0.0.1:PORT IMAGEREG_TOKEN=irt_... node tests/console/console.test.mjs
//
// Optional: IMAGEREG_CONSOLE_URL (default $IMAGEREG_URL/registry-console/),
// CHROMIUM (default /usr/bin/chromium), CONSOLE_SCREENSHOT (default
// tests/console/console.png).  It clicks through the console as a person
// would and, after every step, compares the page's table with the API's list.
// It creates its own registries (unique addresses) and deletes them at the end;
// registries that were there before are left alone and simply compared too.
// Prints `ok - step` / `not ok - step: reason`, then `N passed, N failed`;
// exits 1 on any failure.
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const BASE = (process.env.IMAGEREG_URL || '').replace(/\/+$/, '');
const TOKEN = process.env.IMAGEREG_TOKEN || '';
const CONSOLE_URL = process.env.IMAGEREG_CONSOLE_URL || BASE + '/registry-console/';
const API = BASE + '/openapi/system/registry';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SCREENSHOT = process.env.CONSOLE_SCREENSHOT || path.join(here, 'console.png');

const WAIT_MS = 10000;        // any single wait in the page
const STEP_MS = 30000;        // any single step
const TOTAL_MS = 240000;      // the whole run
const STAMP = Date.now().toString(36) + process.pid.toString(36);
const ADDR1 = `https://console-one-${STAMP}.example.test`;
const ADDR1_MOVED = `https://console-moved-${STAMP}.example.test:5000`;
const ADDR2 = `https://console-two-${STAMP}.example.test`;
const SECRET = `s3cret-${STAMP}`;

let passed = 0;
let failed = 0;
const created = new Set();    // ids this run created, deleted again in finally
const pageErrors = [];        // uncaught exceptions and console errors (CSP violations among them)

// eslint-disable-next-line no-control-regex
const oneLine = (s) => String(s).replace(/\x1b\[[0-9;]*m/g, '').replace(/\s+/g, ' ').trim().slice(0, 600);
let broken = '';             // set when the page itself cannot work: later steps are skipped

function withTimeout(promise, ms, what) {
	let timer;
	return Promise.race([
		promise,
		new Promise((_, reject) => {
			timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
		}),
	]).finally(() => clearTimeout(timer));
}

async function step(name, fn, { always = false } = {}) {
	if (broken && !always) {
		console.log(`not ok - ${name}: skipped: ${broken}`);
		failed++;
		return false;
	}
	try {
		await withTimeout(Promise.resolve().then(fn), STEP_MS, 'the step');
		console.log(`ok - ${name}`);
		passed++;
		return true;
	} catch (e) {
		console.log(`not ok - ${name}: ${oneLine(e && e.message ? e.message : e)}`);
		failed++;
		return false;
	}
}

function assert(cond, message) {
	if (!cond) {
		throw new Error(message);
	}
}

function need(value, what) {
	assert(value, `skipped: ${what} is missing (an earlier step failed)`);
	return value;
}

// ---- the API, straight from Node ------------------------------------------

async function api(method, p = '', body, token = TOKEN) {
	const res = await fetch(API + p, {
		method,
		headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
		body: body === undefined ? undefined : JSON.stringify(body),
		signal: AbortSignal.timeout(WAIT_MS),
	});
	const text = await res.text();
	let data = null;
	try {
		data = JSON.parse(text);
	} catch (e) { /* left null */ }
	return { status: res.status, data, headers: res.headers };
}

async function apiList() {
	const r = await api('GET');
	assert(r.status === 200 && Array.isArray(r.data), `GET list answered ${r.status}`);
	return r.data;
}

// ---- the page ---------------------------------------------------------------

// What the table must show for the API's list, in the API's order.
function expectedRows(list) {
	return list.map((r) => ({
		id: r.registry_id,
		address: r.address,
		provider: r.provider,
		namespace: r.namespace,
		region: r.region,
		is_default: r.is_default ? 'true' : 'false',
		default_cell: r.is_default ? '★ default' : 'no',
		has_credentials: r.has_credentials ? 'yes' : 'no',
		make_default_button: !r.is_default,
	}));
}

async function pageRows(page) {
	return page.$$eval('#registry-rows > tr', (trs) => trs.map((tr) => {
		const text = (col) => {
			const td = tr.querySelector(`td[data-col="${col}"]`);
			return td ? td.textContent : null;
		};
		return {
			id: tr.dataset.registryId,
			address: text('address'),
			provider: text('provider'),
			namespace: text('namespace'),
			region: text('region'),
			is_default: tr.dataset.default,
			default_cell: text('is_default'),
			has_credentials: text('has_credentials'),
			make_default_button: !!tr.querySelector('button[data-action="make-default"]'),
		};
	}));
}

async function idle(page) {
	await page.waitForSelector('body[data-state="idle"]', { timeout: WAIT_MS });
}

// The page's table equals the API's list (polled: the page may still be
// rendering).  Returns the list.
async function tableMatchesApi(page) {
	const deadline = Date.now() + WAIT_MS;
	let want;
	let got;
	for (;;) {
		await idle(page);
		const list = await apiList();
		want = expectedRows(list);
		got = await pageRows(page);
		if (JSON.stringify(got) === JSON.stringify(want)) {
			const emptyShown = await page.isVisible('#empty');
			assert(emptyShown === (list.length === 0), `"no registries" note shown=${emptyShown} with ${list.length} registries`);
			return list;
		}
		if (Date.now() > deadline) {
			break;
		}
		await page.waitForTimeout(100);
	}
	throw new Error(`table differs from the API list:\n   page ${JSON.stringify(got)}\n   api  ${JSON.stringify(want)}`);
}

async function textOf(page, selector) {
	return (await page.textContent(selector, { timeout: WAIT_MS })) || '';
}

// Waits until the element is shown and its text matches `want` (a RegExp,
// or a string it must equal).
async function waitText(page, selector, want, what) {
	const spec = want instanceof RegExp ? { re: want.source, flags: want.flags } : { eq: String(want) };
	try {
		await page.waitForFunction(([sel, w]) => {
			const el = document.querySelector(sel);
			if (!el || el.hidden) {
				return false;
			}
			const t = el.textContent || '';
			return w.re !== undefined ? new RegExp(w.re, w.flags).test(t) : t === w.eq;
		}, [selector, spec], { timeout: WAIT_MS });
	} catch (e) {
		const now = await page.$eval(selector, (el) => `${el.hidden ? '(hidden) ' : ''}${el.textContent}`).catch(() => '(absent)');
		throw new Error(`${what}: ${selector} shows "${oneLine(now)}"`);
	}
}

async function fillRegistryForm(page, f) {
	if (f.address !== undefined) await page.fill('#address', f.address);
	if (f.provider !== undefined) await page.selectOption('#provider', f.provider);
	if (f.namespace !== undefined) await page.fill('#namespace', f.namespace);
	if (f.region !== undefined) await page.fill('#region', f.region);
	if (f.is_default !== undefined) await page.setChecked('#is_default', f.is_default);
	if (f.access_key !== undefined) await page.fill('#access_key', f.access_key);
	if (f.secret_key !== undefined) await page.fill('#secret_key', f.secret_key);
}

async function storageOf(page) {
	return page.evaluate(() => ({
		session: sessionStorage.getItem('imagereg.token'),
		localKeys: Object.keys(localStorage),
		cookie: document.cookie,
	}));
}

async function clickRowButton(page, action, id) {
	await page.click(`#registry-rows button[data-action="${action}"][data-id="${id}"]`, { timeout: WAIT_MS });
}

// A real registry (Debian's docker-registry, tests/registry/distreg.py) on
// loopback holding `images`, for "Test connection" and the browser; resolves
// to { address, stop }.  Stopped by its PID (stdin closed, then SIGTERM).
function startRegistry(images) {
	const helper = path.join(here, '..', 'registry', 'distreg.py');
	const proc = spawn('python3', [helper, ...images], { stdio: ['pipe', 'pipe', 'inherit'] });
	const stop = () => {
		proc.stdin.end();
		setTimeout(() => {
			if (proc.exitCode === null) {
				process.kill(proc.pid, 'SIGTERM');
			}
		}, 5000).unref();
	};
	return new Promise((resolve, reject) => {
		let out = '';
		proc.stdout.on('data', (d) => {
			out += d;
			const line = out.split('\n')[0];
			if (out.includes('\n')) {
				resolve({ address: line.trim(), stop });
			}
		});
		proc.on('exit', (code) => reject(new Error(`the registry helper exited ${code}`)));
	});
}

// ---- the run ----------------------------------------------------------------

async function main() {
	if (!BASE || !TOKEN) {
		console.log('not ok - environment: IMAGEREG_URL and IMAGEREG_TOKEN must be set');
		failed++;
		return;
	}
	let browser;
	try {
		const ok = await step('chromium starts', async () => {
			browser = await chromium.launch({
				executablePath: CHROMIUM,
				headless: true,
				timeout: 30000,
				args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
					'--disable-background-networking', '--disable-component-update', '--disable-sync',
					'--disable-dev-shm-usage'],
			});
		});
		if (!ok) {
			return;
		}
		const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, deviceScaleFactor: 1 });
		const page = await context.newPage();
		page.setDefaultTimeout(WAIT_MS);
		page.setDefaultNavigationTimeout(WAIT_MS);
		page.on('pageerror', (e) => pageErrors.push(`uncaught: ${e.message}`));
		page.on('console', (m) => {
			if (m.type() === 'error' && !/status of 40[13]|Failed to load resource/.test(m.text())) {
				pageErrors.push(`console: ${m.text()}`);
			}
		});
		let dialogs = 'accept';
		page.on('dialog', (d) => (dialogs === 'accept' ? d.accept() : d.dismiss()).catch(() => {}));

		let id1;
		let id2;

		await step('the console is served with its types and security headers', async () => {
			const res = await fetch(CONSOLE_URL, { signal: AbortSignal.timeout(WAIT_MS) });
			assert(res.status === 200, `GET ${CONSOLE_URL} answered ${res.status}`);
			assert(/^text\/html/.test(res.headers.get('content-type') || ''), `index type ${res.headers.get('content-type')}`);
			const csp = res.headers.get('content-security-policy') || '';
			assert(/(script-src|default-src) 'self'/.test(csp) && !/unsafe-(inline|eval)/.test(csp),
				`Content-Security-Policy "${csp}" does not confine scripts to 'self'`);
			assert(res.headers.get('x-content-type-options') === 'nosniff', 'no nosniff on the page');
			// With nosniff, chromium refuses a script or style sheet served as text/plain.
			for (const [file, type] of [['console.js', /^(text|application)\/javascript/], ['console.css', /^text\/css/]]) {
				const r = await fetch(new URL(file, CONSOLE_URL), { signal: AbortSignal.timeout(WAIT_MS) });
				assert(r.status === 200 && type.test(r.headers.get('content-type') || ''),
					`${file} answered ${r.status} as ${r.headers.get('content-type')} (nginx needs its MIME type)`);
			}
		});

		const pageUp = await step('the page asks for a token in a password field', async () => {
			const res = await page.goto(CONSOLE_URL, { waitUntil: 'load' });
			assert(res && res.status() === 200, `page answered ${res && res.status()}`);
			try {
				await page.waitForSelector('body[data-state="auth"]', { timeout: WAIT_MS });
			} catch (e) {
				throw new Error(`the console script did not start${pageErrors.length ? ': ' + pageErrors.join(' | ') : ''}`);
			}
			assert(await page.isVisible('#token'), 'token input not visible');
			assert(await page.getAttribute('#token', 'type') === 'password', 'token input is not type=password');
			assert(!(await page.isVisible('#app')), 'registries shown without a token');
			const label = await page.$eval('#token', (el) => (el.labels && el.labels[0] ? el.labels[0].textContent : ''));
			assert(label.trim() !== '', 'token input has no label');
		});
		if (!pageUp) {
			broken = 'the console page did not start';
		}

		await step('a refused token (401) is asked for again', async () => {
			await page.fill('#token', 'irt_' + '0'.repeat(64));
			await page.click('#token-submit');
			await waitText(page, '#token-error', /refused/, 'no refusal shown');
			await page.waitForSelector('body[data-state="auth"]', { timeout: WAIT_MS });
			assert(await page.isVisible('#token'), 'token input gone after a 401');
			const st = await storageOf(page);
			assert(st.session === null, 'a refused token stayed in sessionStorage');
		});

		await step('the token is accepted and kept in sessionStorage only; table matches the API', async () => {
			await page.fill('#token', TOKEN);
			await page.click('#token-submit');
			await idle(page);
			assert(await page.isVisible('#app'), 'registries not shown');
			assert(await page.inputValue('#token') === '', 'token left in the input');
			const st = await storageOf(page);
			assert(st.session === TOKEN, 'token not in sessionStorage');
			assert(st.localKeys.length === 0, `localStorage holds ${st.localKeys.join(',')}`);
			assert(st.cookie === '', 'cookies set');
			const cookies = await context.cookies();
			assert(cookies.length === 0, `${cookies.length} cookies in the browser`);
			await tableMatchesApi(page);
		});

		await step('create a registry (harbor, with credentials)', async () => {
			assert(await page.getAttribute('#secret_key', 'type') === 'password', 'secret_key is not a password input');
			const providers = await page.$$eval('#provider option', (os) => os.map((o) => o.value));
			assert(providers.join(',') === 'acr,tcr,swr,ecr,dockerhub,harbor,nexus,native', `providers ${providers}`);
			await fillRegistryForm(page, {
				address: ADDR1, provider: 'harbor', namespace: 'team-one', region: '',
				access_key: 'console-user', secret_key: SECRET,
			});
			await page.click('#save');
			await waitText(page, '#status', /Created/, 'no confirmation');
			const list = await tableMatchesApi(page);
			const r = list.find((x) => x.address === ADDR1);
			assert(r, 'the API has no registry with the new address');
			id1 = r.registry_id;
			created.add(id1);
			assert(r.provider === 'harbor' && r.namespace === 'team-one' && r.has_credentials === true,
				`stored ${JSON.stringify(r)}`);
			assert(await page.inputValue('#secret_key') === '', 'secret_key still in the form after saving');
			assert(await page.inputValue('#address') === '', 'form not reset after create');
		});

		await step('create a second registry (ecr, region, no namespace)', async () => {
			await fillRegistryForm(page, { address: ADDR2, provider: 'ecr', namespace: '', region: 'eu-west-1' });
			await page.click('#save');
			await waitText(page, '#status', new RegExp(ADDR2.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')), 'no confirmation');
			const list = await tableMatchesApi(page);
			const r = list.find((x) => x.address === ADDR2);
			assert(r, 'the API has no registry with the second address');
			id2 = r.registry_id;
			created.add(id2);
			assert(r.provider === 'ecr' && r.region === 'eu-west-1' && r.has_credentials === false, `stored ${JSON.stringify(r)}`);
		});

		await step('make the second registry the default', async () => {
			need(id2, 'the second registry');
			assert(!(await page.isVisible(`tr[data-registry-id="${id2}"].is-default`)), 'already the default');
			await clickRowButton(page, 'make-default', id2);
			await waitText(page, '#status', /now the default/, 'no confirmation');
			const list = await tableMatchesApi(page);
			const defaults = list.filter((x) => x.is_default).map((x) => x.registry_id);
			assert(defaults.length === 1 && defaults[0] === id2, `API defaults: ${defaults}`);
			const r = list.find((x) => x.registry_id === id2);
			assert(r.address === ADDR2 && r.provider === 'ecr' && r.region === 'eu-west-1' && r.namespace === '',
				`PUT changed other fields: ${JSON.stringify(r)}`);
			assert(await page.textContent(`tr[data-registry-id="${id2}"] td[data-col="is_default"]`) === '★ default',
				'default not marked');
		});

		await step('edit the first registry: form prefilled, namespace changed, credentials kept', async () => {
			need(id1, 'the first registry');
			await clickRowButton(page, 'edit', id1);
			await page.waitForSelector('#registry-form[data-mode="edit"]', { timeout: WAIT_MS });
			await idle(page);
			assert(await page.inputValue('#address') === ADDR1, 'address not prefilled');
			assert(await page.inputValue('#provider') === 'harbor', 'provider not prefilled');
			assert(await page.inputValue('#namespace') === 'team-one', 'namespace not prefilled');
			assert(await page.inputValue('#access_key') === '' && await page.inputValue('#secret_key') === '',
				'credential inputs not empty');
			assert(/credentials set/.test(await textOf(page, '#credentials-state')), 'no "credentials set"');
			assert(await textOf(page, '#form-id') === id1, 'form does not show the id');
			await page.fill('#namespace', 'team-renamed');
			await page.click('#save');
			await waitText(page, '#status', /Saved/, 'no confirmation');
			const list = await tableMatchesApi(page);
			const r = list.find((x) => x.registry_id === id1);
			assert(r.namespace === 'team-renamed', `namespace is ${r.namespace}`);
			assert(r.has_credentials === true, 'credentials lost by an edit that left them empty');
			assert(r.is_default === false, 'the edit made it default');
			assert(await page.getAttribute('#registry-form', 'data-mode') === 'create', 'form stays in edit mode');
		});

		await step('an empty namespace shows the API description under the namespace field', async () => {
			need(id1, 'the first registry');
			const before = await apiList();
			// What the API says to the same request (it fails, so it changes nothing).
			const direct = await api('PUT', `/${id1}`, { address: ADDR1, provider: 'harbor', namespace: '', region: '', is_default: false });
			assert(direct.status === 400 && direct.data && direct.data.description, `direct PUT answered ${direct.status}`);
			await clickRowButton(page, 'edit', id1);
			await page.waitForSelector('#registry-form[data-mode="edit"]', { timeout: WAIT_MS });
			await idle(page);
			await page.fill('#namespace', '   ');
			await page.click('#save');
			await idle(page);
			await waitText(page, '#namespace-error', direct.data.description, 'description not under namespace');
			assert(await page.getAttribute('#namespace', 'aria-invalid') === 'true', 'namespace not marked invalid');
			const described = await page.getAttribute('#namespace', 'aria-describedby');
			assert(/namespace-error/.test(described || ''), 'error not linked with aria-describedby');
			for (const other of ['#form-error', '#general-error', '#address-error', '#region-error']) {
				assert(!(await page.isVisible(other)), `${other} shown as well`);
			}
			assert(await page.getAttribute('#registry-form', 'data-mode') === 'edit', 'form left edit mode after an error');
			const after = await tableMatchesApi(page);
			assert(JSON.stringify(after) === JSON.stringify(before), 'a refused PUT changed the list');
			// An address error lands under the address field.
			await page.fill('#namespace', 'team-renamed');
			await page.fill('#address', 'ftp://nope.example.test');
			await page.click('#save');
			await idle(page);
			await waitText(page, '#address-error', /^address /, 'address error not under address');
			assert(!(await page.isVisible('#namespace-error')), 'old namespace error still shown');
			await page.click('#cancel-edit');
			assert(await page.getAttribute('#registry-form', 'data-mode') === 'create', 'cancel did not leave edit mode');
			assert(!(await page.isVisible('#address-error')), 'error still shown after cancel');
		});

		await step('moving the address to another host shows the PUT warning', async () => {
			need(id1, 'the first registry');
			await clickRowButton(page, 'edit', id1);
			await page.waitForSelector('#registry-form[data-mode="edit"]', { timeout: WAIT_MS });
			await idle(page);
			await page.fill('#address', ADDR1_MOVED);
			await page.click('#save');
			await waitText(page, '#warning', /cleared/, 'no warning shown');
			const list = await tableMatchesApi(page);
			const r = list.find((x) => x.registry_id === id1);
			assert(r.address === ADDR1_MOVED && r.has_credentials === false, `stored ${JSON.stringify(r)}`);
			assert(await page.textContent(`tr[data-registry-id="${id1}"] td[data-col="has_credentials"]`) === 'no',
				'credentials column not updated');
		});

		let registry;
		let idReal;
		await step('"Test" on a row checks the stored registry and shows the result', async () => {
			registry = await withTimeout(startRegistry(['team/app:v1', 'team/app:v2', 'team/web:v1', 'other/x:v1']),
				WAIT_MS * 2, 'starting docker-registry');
			const r = await api('POST', '', { address: registry.address, provider: 'native', namespace: 'team' });
			assert(r.status === 200 && r.data.registry_id, `POST answered ${r.status}`);
			idReal = r.data.registry_id;
			created.add(idReal);
			await page.click('#refresh');
			await tableMatchesApi(page);
			await clickRowButton(page, 'test', idReal);
			await waitText(page, '#check-summary', /^Passed/, 'no passing result shown');
			assert(await page.textContent('#check-details dd[data-key="namespace_visible"]') === 'yes',
				'namespace visibility not shown');
			assert(await page.textContent('#check-details dd[data-key="authenticated"]') === 'yes', 'not authenticated');
			// A registry that cannot be reached says why, in the same place.
			need(id1, 'the first registry');
			await clickRowButton(page, 'test', id1);
			await waitText(page, '#check-summary', /^Failed \((dns|timeout|connect)\)/, 'no failure shown for an unresolvable host');
		});

		await step('"Browse" lists the repositories under the namespace, filters, and shows tags with digests', async () => {
			need(idReal, 'the real registry');
			await clickRowButton(page, 'browse', idReal);
			await waitText(page, '#repo-page', /2 repositories/, 'no count shown');
			const names = await page.$$eval('#repo-list button', (bs) => bs.map((b) => b.textContent));
			assert(JSON.stringify(names) === JSON.stringify(['team/app', 'team/web']), `repositories ${names}`);
			await page.fill('#repo-q', 'web');
			await page.click('#repo-search-submit');
			await waitText(page, '#repo-page', /1 repositories/, 'filter not applied');
			await page.fill('#repo-q', '');
			await page.click('#repo-search-submit');
			await waitText(page, '#repo-page', /2 repositories/, 'filter not cleared');
			await page.click('#repo-list button[data-repository="team/app"]');
			await waitText(page, '#tags-title', 'Tags of team/app', 'no tags title');
			await idle(page);
			const tags = await page.$$eval('#tag-rows tr', (trs) => trs.map((tr) => [
				tr.querySelector('td[data-col="tag"]').textContent, tr.querySelector('td[data-col="digest"]').textContent]));
			const api2 = await api('GET', `/${idReal}/repositories/tags?repository=team/app`);
			assert(JSON.stringify(tags) === JSON.stringify(api2.data.map((t) => [t.name, t.digest])),
				`tags ${JSON.stringify(tags)} differ from the API's`);
			assert(tags.length === 2 && tags.every(([, d]) => /^sha256:[0-9a-f]{64}$/.test(d)), `tags ${JSON.stringify(tags)}`);
			await page.click('#browser-close');
			assert(!(await page.isVisible('#browser')), 'browser not closed');
		});
		if (registry) {
			registry.stop();
		}

		await step('delete asks first: dismissed changes nothing, accepted deletes', async () => {
			need(id1, 'the first registry');
			const before = await apiList();
			dialogs = 'dismiss';
			await clickRowButton(page, 'delete', id1);
			await idle(page);
			await page.waitForTimeout(200);
			const after = await tableMatchesApi(page);
			assert(JSON.stringify(after) === JSON.stringify(before), 'a dismissed confirm() deleted');
			dialogs = 'accept';
			await clickRowButton(page, 'delete', id1);
			await waitText(page, '#status', /Deleted/, 'no confirmation');
			const list = await tableMatchesApi(page);
			assert(!list.some((x) => x.registry_id === id1), 'still in the API list');
			created.delete(id1);
			assert((await api('GET', `/${id1}`)).status === 404, 'GET of the deleted id is not 404');
			const def = list.filter((x) => x.is_default).map((x) => x.registry_id);
			assert(def.length === 1 && def[0] === id2, `default is ${def}`);
		});

		await step(`screenshot saved to ${path.relative(process.cwd(), SCREENSHOT) || SCREENSHOT}`, async () => {
			await idle(page);
			await page.evaluate(() => window.scrollTo(0, 0));
			await page.screenshot({ path: SCREENSHOT, fullPage: true, timeout: WAIT_MS });
		});

		await step('data reaches the page as text, never as markup', async () => {
			const hostile = `<img src=x onerror="window.__xss=1"><b>bold</b>`;
			const r = await api('POST', '', { address: `https://console-xss-${STAMP}.example.test`, provider: 'native', namespace: hostile });
			assert(r.status === 200 && r.data.registry_id, `POST answered ${r.status}`);
			created.add(r.data.registry_id);
			await page.click('#refresh');
			await tableMatchesApi(page);
			const cellText = await page.textContent(`tr[data-registry-id="${r.data.registry_id}"] td[data-col="namespace"]`);
			assert(cellText === hostile, 'namespace not shown verbatim');
			assert(await page.$$eval('#registry-rows img, #registry-rows b', (els) => els.length) === 0, 'markup was parsed');
			await page.waitForTimeout(200);
			assert(await page.evaluate(() => window.__xss) === undefined, 'the onerror handler ran');
			// Edit form too.
			await clickRowButton(page, 'edit', r.data.registry_id);
			await page.waitForSelector('#registry-form[data-mode="edit"]', { timeout: WAIT_MS });
			assert(await page.inputValue('#namespace') === hostile, 'namespace not prefilled verbatim');
			await page.click('#cancel-edit');
			assert((await api('DELETE', `/${r.data.registry_id}`)).status === 200, 'cleanup DELETE failed');
			created.delete(r.data.registry_id);
			await page.click('#refresh');
			await tableMatchesApi(page);
		});

		await step('a token revoked mid-session (401) asks for the token again', async () => {
			await page.evaluate(() => sessionStorage.setItem('imagereg.token', 'irt_' + 'f'.repeat(64)));
			await page.click('#refresh');
			await page.waitForSelector('body[data-state="auth"]', { timeout: WAIT_MS });
			assert(await page.isVisible('#token'), 'token input not shown');
			await waitText(page, '#token-error', /refused/, 'no refusal shown');
			assert(await page.$$eval('#registry-rows tr', (trs) => trs.length) === 0, 'stale rows kept in the page');
			assert((await storageOf(page)).session === null, 'the refused token stayed stored');
			await page.fill('#token', TOKEN);
			await page.click('#token-submit');
			await tableMatchesApi(page);
		});

		await step('the token survives a reload (sessionStorage) and "forget token" drops it', async () => {
			await page.reload({ waitUntil: 'load' });
			await tableMatchesApi(page);
			await page.click('#forget-token');
			await page.waitForSelector('body[data-state="auth"]', { timeout: WAIT_MS });
			const st = await storageOf(page);
			assert(st.session === null && st.localKeys.length === 0, 'token still stored');
			assert(await page.$$eval('#registry-rows tr', (trs) => trs.length) === 0, 'rows left in the page');
			await page.reload({ waitUntil: 'load' });
			await page.waitForSelector('body[data-state="auth"]', { timeout: WAIT_MS });
		});

		await step('no script errors or CSP violations in the page', async () => {
			assert(pageErrors.length === 0, pageErrors.join(' | '));
		}, { always: true });
	} finally {
		for (const id of created) {
			await api('DELETE', `/${id}`).catch(() => {});
		}
		if (browser) {
			await withTimeout(browser.close(), 10000, 'closing chromium').catch((e) => {
				console.log(`# ${oneLine(e.message)}`);
			});
		}
	}
}

const watchdog = setTimeout(() => {
	console.log(`not ok - the console test did not finish within ${TOTAL_MS / 1000} s`);
	console.log(`${passed} passed, ${failed + 1} failed`);
	process.exit(1);
}, TOTAL_MS);

try {
	await main();
} catch (e) {
	console.log(`not ok - unexpected: ${oneLine(e && e.stack ? e.stack : e)}`);
	failed++;
}
clearTimeout(watchdog);
if (passed + failed === 0) {
	failed++;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
