// imagereg registry console: one static page talking to the registry OpenAPI
// on the same origin with fetch().  No framework, no build step.
//
// Rules kept throughout:
//  - the bearer token lives in sessionStorage only (never localStorage or cookies);
//  - everything that came from the API or the user reaches the DOM through
//    textContent / attributes / form values, never innerHTML;
//  - credentials are write-only: the form never shows them, an empty field keeps them.
'use strict';

(() => {
	const TOKEN_KEY = 'imagereg.token';
	const TIMEOUT_MS = 15000;
	const ID_RE = /^[0-9a-f]{24}$/;
	// Fields of the form, in the order the API documents them; an error
	// description naming one of them is shown under that input.
	const FIELDS = ['address', 'provider', 'namespace', 'region', 'is_default',
		'access_key', 'secret_key', 'enable_tls', 'tls_cert'];
	const apiMeta = document.querySelector('meta[name="imagereg-api"]');
	const API = ((apiMeta && apiMeta.content) || '/openapi/system/registry').replace(/\/+$/, '');

	const $ = (id) => document.getElementById(id);
	const ui = {};
	let busy = 0;
	let editing = null; // the registry (as GET /:id returned it) being edited, or null

	// ---- token -------------------------------------------------------------

	function getToken() {
		try {
			return sessionStorage.getItem(TOKEN_KEY) || '';
		} catch (e) {
			return '';
		}
	}

	function setToken(token) {
		sessionStorage.setItem(TOKEN_KEY, token);
	}

	function dropToken() {
		try {
			sessionStorage.removeItem(TOKEN_KEY);
		} catch (e) { /* storage disabled: nothing stored either */ }
	}

	// ---- the API -----------------------------------------------------------

	class ApiError extends Error {
		constructor(status, description) {
			super(description);
			this.status = status;
			this.description = description;
		}
	}

	// One request; resolves to the parsed JSON body of a 2xx answer, rejects
	// with an ApiError carrying the API's `description` otherwise.  A 401
	// forgets the token and asks for it again.  meta, when given, receives
	// `total` (X-Total-Count) of a list.
	async function api(method, path, body, meta) {
		const token = getToken();
		if (!token) {
			askForToken('Enter a token first.');
			throw new ApiError(401, 'no token');
		}
		const headers = { Authorization: 'Bearer ' + token, Accept: 'application/json' };
		const init = {
			method, headers, cache: 'no-store', credentials: 'omit', redirect: 'error',
			referrerPolicy: 'no-referrer',
		};
		if (body !== undefined) {
			headers['Content-Type'] = 'application/json';
			init.body = JSON.stringify(body);
		}
		const ctl = new AbortController();
		const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
		init.signal = ctl.signal;
		let res;
		let text;
		try {
			res = await fetch(API + path, init);
			text = await res.text();
		} catch (e) {
			throw new ApiError(0, e && e.name === 'AbortError'
				? 'the API did not answer within ' + TIMEOUT_MS / 1000 + ' s'
				: 'the API could not be reached (' + (e && e.message ? e.message : 'network error') + ')');
		} finally {
			clearTimeout(timer);
		}
		let data = null;
		try {
			data = text ? JSON.parse(text) : null;
		} catch (e) {
			data = null;
		}
		const description = data && typeof data.description === 'string' && data.description
			? data.description : 'HTTP ' + res.status + (res.statusText ? ' ' + res.statusText : '');
		if (res.status === 401) {
			askForToken('The token was refused (' + description + '): enter it again.');
			throw new ApiError(401, description);
		}
		if (!res.ok) {
			throw new ApiError(res.status, description);
		}
		if (data === null || typeof data !== 'object') {
			throw new ApiError(res.status, 'the API answered HTTP ' + res.status + ' without a JSON body');
		}
		if (meta) {
			const total = parseInt(res.headers.get('X-Total-Count') || '', 10);
			meta.total = Number.isNaN(total) ? null : total;
		}
		return data;
	}

	const idPath = (id) => {
		if (!ID_RE.test(id)) {
			throw new ApiError(0, 'invalid registry id');
		}
		return '/' + id;
	};

	// ---- messages ----------------------------------------------------------

	function show(el, text) {
		el.textContent = text || '';
		el.hidden = !text;
	}

	function clearMessages() {
		show(ui.generalError, '');
		show(ui.warning, '');
		show(ui.status, '');
		show(ui.formError, '');
	}

	function clearFieldErrors() {
		for (const f of FIELDS) {
			show($(f + '-error'), '');
			$(f).removeAttribute('aria-invalid');
		}
		show(ui.formError, '');
	}

	// The field an error description is about: its first word when that is a
	// field name ("namespace cannot be empty"), else the first field name
	// appearing in it as a whole word, else null.
	function fieldOf(description) {
		const first = /^\s*([A-Za-z_]+)/.exec(description || '');
		if (first && FIELDS.includes(first[1].toLowerCase())) {
			return first[1].toLowerCase();
		}
		let best = null;
		let bestAt = Infinity;
		for (const f of FIELDS) {
			const m = new RegExp('(^|[^A-Za-z0-9_])' + f + '(?![A-Za-z0-9_])', 'i').exec(description || '');
			if (m && m.index < bestAt) {
				best = f;
				bestAt = m.index;
			}
		}
		return best;
	}

	// Shows an error of a form submission under its field, or in the form's
	// own error area; errors of other actions go to the general area.
	function showError(err, inForm) {
		if (err instanceof ApiError && err.status === 401) {
			return; // askForToken() has already said so
		}
		const text = err instanceof ApiError ? err.description : 'unexpected error: ' + String(err && err.message || err);
		const prefix = err instanceof ApiError && err.status >= 500 ? 'Server error: ' : '';
		if (inForm) {
			const field = fieldOf(text);
			if (field) {
				show($(field + '-error'), text);
				$(field).setAttribute('aria-invalid', 'true');
				$(field).focus();
				return;
			}
			show(ui.formError, prefix + text);
			return;
		}
		show(ui.generalError, prefix + text);
	}

	// ---- busy state --------------------------------------------------------

	function setBusy(delta) {
		busy += delta;
		const on = busy > 0;
		document.body.dataset.state = on ? 'busy' : (ui.app.hidden ? 'auth' : 'idle');
		ui.app.setAttribute('aria-busy', on ? 'true' : 'false');
		for (const b of ui.app.querySelectorAll('button')) {
			b.disabled = on;
		}
	}

	async function run(fn) {
		if (busy > 0) {
			return;
		}
		setBusy(1);
		try {
			await fn();
		} finally {
			setBusy(-1);
		}
	}

	// ---- views -------------------------------------------------------------

	function askForToken(message) {
		dropToken();
		ui.app.hidden = true;
		ui.session.hidden = true;
		ui.auth.hidden = false;
		ui.rows.replaceChildren();
		show(ui.tokenError, message || '');
		if (message) {
			ui.tokenInput.setAttribute('aria-invalid', 'true');
		} else {
			ui.tokenInput.removeAttribute('aria-invalid');
		}
		document.body.dataset.state = 'auth';
		ui.tokenInput.focus();
	}

	function showApp() {
		ui.auth.hidden = true;
		ui.session.hidden = false;
		ui.app.hidden = false;
		show(ui.tokenError, '');
		ui.tokenInput.removeAttribute('aria-invalid');
	}

	const COL_LABELS = {
		address: 'Address', provider: 'Provider', namespace: 'Namespace', region: 'Region',
		is_default: 'Default', has_credentials: 'Credentials',
	};

	function cell(col, text) {
		const td = document.createElement('td');
		td.dataset.col = col;
		if (COL_LABELS[col]) {
			td.dataset.label = COL_LABELS[col]; // shown on narrow screens, where the header is hidden
		}
		td.textContent = text == null ? '' : String(text);
		return td;
	}

	// An address as text nodes with <wbr> after each '.', '/' and ':', so long
	// host names wrap at their dots (textContent stays the address itself).
	function addressCell(address) {
		const td = cell('address', '');
		for (const part of String(address == null ? '' : address).split(/(?<=[./:])/)) {
			if (td.firstChild) {
				td.append(document.createElement('wbr'));
			}
			td.append(document.createTextNode(part));
		}
		return td;
	}

	// "2026-11-29 23:09 UTC" from an ISO 8601 time; the text itself if it is not one.
	function when(iso) {
		const d = new Date(iso);
		return Number.isNaN(d.getTime()) ? String(iso) : d.toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
	}

	function button(label, action, id, accessibleName, extraClass) {
		const b = document.createElement('button');
		b.type = 'button';
		b.textContent = label;
		b.dataset.action = action;
		b.dataset.id = id;
		b.dataset.testid = action + '-' + id;
		b.setAttribute('aria-label', accessibleName);
		if (extraClass) {
			b.className = extraClass;
		}
		b.disabled = busy > 0;
		return b;
	}

	function rowFor(r) {
		const tr = document.createElement('tr');
		tr.dataset.registryId = r.registry_id;
		tr.dataset.default = r.is_default ? 'true' : 'false';
		if (r.is_default) {
			tr.className = 'is-default';
		}
		const addr = addressCell(r.address);
		addr.title = 'id ' + r.registry_id;
		tr.append(addr, cell('provider', r.provider), cell('namespace', r.namespace), cell('region', r.region));

		const def = cell('is_default', '');
		const badge = document.createElement('span');
		badge.className = r.is_default ? 'badge default' : 'muted';
		badge.textContent = r.is_default ? '★ default' : 'no';
		def.append(badge);
		tr.append(def);

		const cred = cell('has_credentials', r.has_credentials ? 'yes' : 'no');
		if (r.has_credentials && r.credentials_updated_at) {
			cred.title = 'set ' + when(r.credentials_updated_at);
		}
		tr.append(cred);

		const actions = document.createElement('td');
		actions.dataset.col = 'actions';
		actions.className = 'actions';
		const name = r.address || r.registry_id;
		actions.append(button('Test', 'test', r.registry_id, 'Test connection to ' + name));
		actions.append(button('Browse', 'browse', r.registry_id, 'Browse ' + name));
		actions.append(button('Edit', 'edit', r.registry_id, 'Edit ' + name));
		if (!r.is_default) {
			actions.append(button('Make default', 'make-default', r.registry_id, 'Make ' + name + ' the default'));
		}
		actions.append(button('Delete', 'delete', r.registry_id, 'Delete ' + name, 'danger'));
		tr.append(actions);
		return tr;
	}

	function renderList(list) {
		ui.rows.replaceChildren(...list.map(rowFor));
		ui.empty.hidden = list.length > 0;
		ui.table.hidden = list.length === 0;
	}

	async function loadList() {
		const list = await api('GET', '');
		if (!Array.isArray(list)) {
			throw new ApiError(0, 'the API answered the list with something that is not an array');
		}
		renderList(list);
		return list;
	}

	// ---- the form ----------------------------------------------------------

	function keepTlsOption(on) {
		let opt = ui.enableTls.querySelector('option[value="keep"]');
		if (on && !opt) {
			opt = document.createElement('option');
			opt.value = 'keep';
			opt.textContent = 'unchanged (as stored)';
			ui.enableTls.prepend(opt);
		} else if (!on && opt) {
			opt.remove();
		}
	}

	function resetForm() {
		editing = null;
		ui.form.reset();
		clearFieldErrors();
		ui.form.dataset.mode = 'create';
		ui.formTitle.textContent = 'New registry';
		ui.formId.textContent = '';
		ui.save.textContent = 'Create registry';
		ui.cancelEdit.hidden = true;
		ui.isDefault.disabled = false;
		$('is_default-help').textContent = 'Exactly one registry is the default; making this one default moves it.';
		show(ui.credentialsState, '');
		$('credentials-help').textContent = 'Write-only: never shown again once saved.';
		ui.accessKey.placeholder = '';
		ui.secretKey.placeholder = '';
		keepTlsOption(false);
		ui.enableTls.value = 'false';
	}

	function fillForm(r) {
		resetForm();
		editing = r;
		ui.form.dataset.mode = 'edit';
		ui.formTitle.textContent = 'Edit registry';
		ui.formId.textContent = r.registry_id;
		ui.save.textContent = 'Save changes';
		ui.cancelEdit.hidden = false;
		$('address').value = r.address || '';
		$('provider').value = r.provider || '';
		$('namespace').value = r.namespace || '';
		$('region').value = r.region || '';
		ui.isDefault.checked = !!r.is_default;
		markDefaultInForm(!!r.is_default);
		if (r.has_credentials) {
			const at = r.credentials_updated_at ? ' (' + when(r.credentials_updated_at) + ')' : '';
			show(ui.credentialsState, 'credentials set' + at);
			ui.credentialsState.className = 'badge ok';
			$('credentials-help').textContent =
				'Write-only: an empty field keeps the stored value; type a new one to replace it.';
			ui.accessKey.placeholder = 'unchanged';
			ui.secretKey.placeholder = 'unchanged';
		} else {
			show(ui.credentialsState, 'no credentials stored');
			ui.credentialsState.className = 'badge';
			$('credentials-help').textContent = 'Write-only: never shown again once saved.';
		}
		keepTlsOption(true);
		ui.enableTls.value = 'keep';
	}

	function markDefaultInForm(isDefault) {
		ui.isDefault.disabled = isDefault;
		if (isDefault) {
			ui.isDefault.checked = true;
		}
		$('is_default-help').textContent = isDefault
			? 'This is the default registry: make another one default to move it.'
			: 'Exactly one registry is the default; making this one default moves it.';
	}

	// The JSON body of the form: credentials and the TLS certificate only when
	// typed (empty keeps what is stored), enable_tls only when chosen.
	function formBody() {
		const body = {
			address: $('address').value,
			provider: $('provider').value,
			namespace: $('namespace').value,
			region: $('region').value,
			is_default: ui.isDefault.checked,
		};
		if (ui.accessKey.value !== '') {
			body.access_key = ui.accessKey.value;
		}
		if (ui.secretKey.value !== '') {
			body.secret_key = ui.secretKey.value;
		}
		if (ui.enableTls.value !== 'keep') {
			body.enable_tls = ui.enableTls.value === 'true';
		}
		if (ui.tlsCert.value.trim() !== '') {
			body.tls_cert = ui.tlsCert.value;
		}
		return body;
	}

	// ---- actions -----------------------------------------------------------

	async function refresh(message) {
		try {
			const list = await loadList();
			if (message) {
				show(ui.status, message);
			}
			return list;
		} catch (e) {
			showError(e, false);
			return null;
		}
	}

	function onSubmitForm(ev) {
		ev.preventDefault();
		run(async () => {
			clearMessages();
			clearFieldErrors();
			const body = formBody();
			const target = editing;
			let message;
			try {
				if (target) {
					const res = await api('PUT', idPath(target.registry_id), body);
					if (typeof res.warning === 'string' && res.warning) {
						show(ui.warning, 'Warning: ' + res.warning);
					}
					message = 'Saved ' + body.address.trim() + '.';
				} else {
					const res = await api('POST', '', body);
					if (typeof res.warning === 'string' && res.warning) {
						show(ui.warning, 'Warning: ' + res.warning);
					}
					message = 'Created ' + body.address.trim() + ' (id ' + res.registry_id + ').';
				}
			} catch (e) {
				showError(e, true);
				if (e instanceof ApiError && e.status === 404) {
					await refresh();
				}
				return;
			}
			resetForm();
			await refresh(message);
		});
	}

	async function startEdit(id) {
		clearMessages();
		let r;
		try {
			r = await api('GET', idPath(id));
		} catch (e) {
			showError(e, false);
			if (e instanceof ApiError && e.status === 404) {
				await refresh();
			}
			return;
		}
		fillForm(r);
		ui.form.scrollIntoView({ block: 'start' });
		$('address').focus();
	}

	async function makeDefault(id) {
		clearMessages();
		try {
			// PUT replaces: send the registry's current fields with is_default.
			const r = await api('GET', idPath(id));
			const res = await api('PUT', idPath(id), {
				address: r.address, provider: r.provider, namespace: r.namespace,
				region: r.region, is_default: true,
			});
			if (typeof res.warning === 'string' && res.warning) {
				show(ui.warning, 'Warning: ' + res.warning);
			}
			if (editing && editing.registry_id === id) {
				markDefaultInForm(true);
			}
			await refresh(r.address + ' is now the default registry.');
		} catch (e) {
			showError(e, false);
			if (e instanceof ApiError && e.status === 404) {
				await refresh();
			}
		}
	}

	async function remove(id, label) {
		clearMessages();
		if (!window.confirm('Delete the registry ' + label + '?\n\nid ' + id + '\nThis cannot be undone.')) {
			return;
		}
		try {
			await api('DELETE', idPath(id));
		} catch (e) {
			showError(e, false);
			if (e instanceof ApiError && e.status === 404) {
				await refresh();
			}
			return;
		}
		if (editing && editing.registry_id === id) {
			resetForm();
		}
		await refresh('Deleted ' + label + '.');
	}

	// ---- test connection ---------------------------------------------------

	const CHECK_LABELS = [
		['reachable', 'Reachable'], ['tls_verified', 'TLS verified'], ['registry_api', 'Registry API v2'],
		['authenticated', 'Authenticated'], ['namespace_visible', 'Namespace visible'],
		['cert_expires_in_days', 'Certificate expires in (days)'], ['latency_ms', 'Took (ms)'],
		['error_kind', 'Error kind'], ['error', 'Error'], ['warning', 'Warning'],
	];

	function showCheck(label, res) {
		ui.checkCard.hidden = false;
		ui.checkTitle.textContent = 'Connection test: ' + label;
		ui.checkSummary.textContent = res.error_kind
			? 'Failed (' + res.error_kind + '): ' + res.error
			: 'Passed' + (res.warning ? ', with a warning: ' + res.warning : '.');
		ui.checkSummary.className = res.error_kind ? 'msg error' : (res.warning ? 'msg warning' : 'msg ok');
		const rows = [];
		for (const [key, text] of CHECK_LABELS) {
			const v = res[key];
			if (v === null || v === undefined) {
				continue;
			}
			const dt = document.createElement('dt');
			dt.textContent = text;
			const dd = document.createElement('dd');
			dd.dataset.key = key;
			dd.textContent = typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v);
			rows.push(dt, dd);
		}
		ui.checkDetails.replaceChildren(...rows);
	}

	async function testConnection(id, label) {
		clearMessages();
		show(ui.status, 'Testing ' + label + '…');
		try {
			const res = await api('POST', idPath(id) + '/validate');
			show(ui.status, '');
			showCheck(label, res);
			ui.checkCard.scrollIntoView({ block: 'nearest' });
		} catch (e) {
			show(ui.status, '');
			showError(e, false);
		}
	}

	// ---- browse ------------------------------------------------------------

	const PAGE_SIZE = 20;
	const browsing = { id: null, label: '', page: 1, q: '', total: 0 };

	function showBrowserError(e) {
		if (e instanceof ApiError && e.status === 401) {
			return;
		}
		show(ui.browserError, e instanceof ApiError ? e.description : String(e && e.message || e));
	}

	async function loadRepositories() {
		show(ui.browserError, '');
		const meta = {};
		const query = '?page=' + browsing.page + '&page_size=' + PAGE_SIZE +
			(browsing.q ? '&q=' + encodeURIComponent(browsing.q) : '');
		let list;
		try {
			list = await api('GET', idPath(browsing.id) + '/repositories' + query, undefined, meta);
		} catch (e) {
			ui.repoList.replaceChildren();
			ui.repoPage.textContent = '';
			showBrowserError(e);
			return;
		}
		browsing.total = meta.total || 0;
		ui.repoList.replaceChildren(...list.map((r) => {
			const li = document.createElement('li');
			const b = document.createElement('button');
			b.type = 'button';
			b.className = 'link';
			b.dataset.repository = r.name;
			b.textContent = r.name;
			b.disabled = busy > 0;
			li.append(b);
			return li;
		}));
		const pages = Math.max(1, Math.ceil(browsing.total / PAGE_SIZE));
		ui.repoPage.textContent = browsing.total
			? 'page ' + browsing.page + ' of ' + pages + ' · ' + browsing.total + ' repositories'
			: 'no repositories';
		ui.repoPrev.dataset.enabled = browsing.page > 1 ? 'true' : 'false';
		ui.repoNext.dataset.enabled = browsing.page < pages ? 'true' : 'false';
	}

	async function loadTags(repository) {
		show(ui.browserError, '');
		let list;
		try {
			list = await api('GET', idPath(browsing.id) + '/repositories/tags?repository=' +
				encodeURIComponent(repository).replace(/%2F/g, '/') + '&page=1&page_size=100');
		} catch (e) {
			showBrowserError(e);
			return;
		}
		ui.tagsTitle.textContent = 'Tags of ' + repository;
		ui.tagsTitle.hidden = false;
		ui.tagTable.hidden = false;
		ui.tagRows.replaceChildren(...list.map((t) => {
			const tr = document.createElement('tr');
			const name = document.createElement('td');
			name.dataset.col = 'tag';
			name.textContent = t.name;
			const digest = document.createElement('td');
			digest.dataset.col = 'digest';
			digest.className = 'mono';
			digest.textContent = t.digest || '';
			tr.append(name, digest);
			return tr;
		}));
	}

	async function browse(id, label) {
		clearMessages();
		Object.assign(browsing, { id, label, page: 1, q: '', total: 0 });
		ui.repoQ.value = '';
		ui.browser.hidden = false;
		ui.browserTitle.textContent = 'Repositories of ' + label;
		ui.tagsTitle.hidden = true;
		ui.tagTable.hidden = true;
		ui.tagRows.replaceChildren();
		await loadRepositories();
		ui.browser.scrollIntoView({ block: 'nearest' });
	}

	function onBrowserClick(ev) {
		const b = ev.target.closest('button[data-repository]');
		if (b && !b.disabled) {
			run(() => loadTags(b.dataset.repository));
		}
	}

	function onRowClick(ev) {
		const b = ev.target.closest('button[data-action]');
		if (!b || b.disabled) {
			return;
		}
		const id = b.dataset.id;
		const tr = b.closest('tr');
		const addrCell = tr && tr.querySelector('td[data-col="address"]');
		const label = addrCell && addrCell.textContent ? addrCell.textContent : id;
		if (b.dataset.action === 'edit') {
			run(() => startEdit(id));
		} else if (b.dataset.action === 'make-default') {
			run(() => makeDefault(id));
		} else if (b.dataset.action === 'delete') {
			run(() => remove(id, label));
		} else if (b.dataset.action === 'test') {
			run(() => testConnection(id, label));
		} else if (b.dataset.action === 'browse') {
			run(() => browse(id, label));
		}
	}

	function onTokenSubmit(ev) {
		ev.preventDefault();
		const token = ui.tokenInput.value.trim();
		if (!token) {
			show(ui.tokenError, 'Enter a token.');
			ui.tokenInput.setAttribute('aria-invalid', 'true');
			ui.tokenInput.focus();
			return;
		}
		try {
			setToken(token);
		} catch (e) {
			show(ui.tokenError, 'This browser refuses session storage, so the token cannot be kept.');
			return;
		}
		ui.tokenInput.value = '';
		showApp();
		clearMessages();
		run(() => refresh());
	}

	function onForget() {
		dropToken();
		resetForm();
		clearMessages();
		askForToken('');
		show(ui.status, 'The token was forgotten.');
	}

	// ---- start -------------------------------------------------------------

	function init() {
		Object.assign(ui, {
			auth: $('auth'), app: $('app'), session: $('session'), tokenForm: $('token-form'),
			tokenInput: $('token'), tokenError: $('token-error'), generalError: $('general-error'),
			warning: $('warning'), status: $('status'), formError: $('form-error'), rows: $('registry-rows'),
			table: $('registry-table'), empty: $('empty'), form: $('registry-form'), formTitle: $('form-title'),
			formId: $('form-id'), save: $('save'), cancelEdit: $('cancel-edit'), isDefault: $('is_default'),
			credentialsState: $('credentials-state'), accessKey: $('access_key'), secretKey: $('secret_key'),
			enableTls: $('enable_tls'), tlsCert: $('tls_cert'),
			checkCard: $('check-card'), checkTitle: $('check-title'), checkSummary: $('check-summary'),
			checkDetails: $('check-details'), browser: $('browser'), browserTitle: $('browser-title'),
			browserError: $('browser-error'), repoQ: $('repo-q'), repoList: $('repo-list'), repoPage: $('repo-page'),
			repoPrev: $('repo-prev'), repoNext: $('repo-next'), tagsTitle: $('tags-title'), tagTable: $('tag-table'),
			tagRows: $('tag-rows'),
		});
		$('check-close').addEventListener('click', () => {
			ui.checkCard.hidden = true;
		});
		$('browser-close').addEventListener('click', () => {
			ui.browser.hidden = true;
			browsing.id = null;
		});
		$('repo-search').addEventListener('submit', (ev) => {
			ev.preventDefault();
			run(async () => {
				browsing.q = ui.repoQ.value.trim();
				browsing.page = 1;
				await loadRepositories();
			});
		});
		ui.repoPrev.addEventListener('click', () => run(async () => {
			if (browsing.page > 1) {
				browsing.page--;
				await loadRepositories();
			}
		}));
		ui.repoNext.addEventListener('click', () => run(async () => {
			if (ui.repoNext.dataset.enabled === 'true') {
				browsing.page++;
				await loadRepositories();
			}
		}));
		ui.repoList.addEventListener('click', onBrowserClick);
		ui.tokenForm.addEventListener('submit', onTokenSubmit);
		$('forget-token').addEventListener('click', onForget);
		$('refresh').addEventListener('click', () => run(async () => {
			clearMessages();
			await refresh();
		}));
		ui.form.addEventListener('submit', onSubmitForm);
		ui.cancelEdit.addEventListener('click', () => {
			resetForm();
			clearMessages();
		});
		ui.rows.addEventListener('click', onRowClick);
		for (const f of FIELDS) {
			// An error under a field goes away once the field is changed.
			$(f).addEventListener('input', () => {
				show($(f + '-error'), '');
				$(f).removeAttribute('aria-invalid');
			});
		}
		resetForm();
		if (getToken()) {
			showApp();
			run(() => refresh());
		} else {
			askForToken('');
		}
	}

	if (document.readyState === 'loading') {
		document.addEventListener('DOMContentLoaded', init);
	} else {
		init();
	}
})();
