/*
 * fuzz_query.c - libFuzzer: the list endpoint's QUERY_STRING (list_query_parse,
 * list_query_match) and the If-Match header (if_match_parse, if_match_param),
 * with the invariants their callers rely on.
 *
 * Input: the first byte picks the parser (even: query string, odd: If-Match)
 * and the size of the error buffer; the rest, up to a NUL, is the text (as a
 * CGI parameter, which cannot hold a NUL).
 */
#include "etag.h"
#include "fuzz.h"
#include "list_query.h"
#include "validate.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const size_t err_sizes[] = { 1, 2, 16, 64, 256 };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet_log();
	return 0;
}

static void check_list_query(const char *text, char *err, size_t errsize)
{
	struct list_query q;

	if (list_query_parse(text, &q, err, errsize) < 0) {
		ENSURE(memchr(err, '\0', errsize) != NULL);
		ENSURE(errsize < 16 || strstr(err, "query parameter") == err);
		return;
	}
	ENSURE(q.provider[0] == '\0' || provider_known(q.provider));
	ENSURE(q.is_default >= -1 && q.is_default <= 1);
	ENSURE(q.q_len == strlen(q.q) && q.q_len <= LIST_Q_MAX && utf8_valid(q.q, q.q_len));
	ENSURE((q.page == 0) == (q.page_size == 0));
	ENSURE(q.page == 0 || (q.page >= 1 && q.page <= LIST_PAGE_MAX));
	ENSURE(q.page_size == 0 || (q.page_size >= 1 && q.page_size <= LIST_PAGE_SIZE_MAX));
	/* Without a filter everything matches; the text itself as an address must not trip the matcher. */
	int m = list_query_match(&q, text, q.provider[0] ? q.provider : "native", text, 0);
	ENSURE(m == 0 || m == 1);
	if (q.provider[0] == '\0' && q.is_default < 0 && q.q_len == 0)
		ENSURE(m == 1);
	/* q matches an address that is q itself. */
	if (q.q_len > 0)
		ENSURE(list_query_match(&q, q.q, q.provider[0] ? q.provider : "native", "",
					q.is_default > 0) == 1);
}

static void check_if_match(const char *text, char *err, size_t errsize)
{
	struct if_match m;
	char buf[IF_MATCH_PARAM_SIZE];
	const char *param;

	if (if_match_parse(text, &m, err, errsize) < 0) {
		ENSURE(memchr(err, '\0', errsize) != NULL);
		return;
	}
	ENSURE(m.present == 1);
	ENSURE(m.any ? m.tags == 0 && m.n == 0 : m.tags >= 1);
	ENSURE(m.n <= m.tags && m.tags <= IF_MATCH_MAX_TAGS);
	for (size_t i = 0; i < m.n; i++)
		ENSURE(m.versions[i] > 0);
	param = if_match_param(&m, buf, sizeof buf);
	if (m.any) {
		ENSURE(param == NULL);
		return;
	}
	ENSURE(param == buf);
	size_t len = strnlen(buf, sizeof buf);
	ENSURE(len < sizeof buf && buf[0] == '{' && buf[len - 1] == '}');
	ENSURE(strspn(buf + 1, "0123456789,") == len - 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t errsize, n;
	char *text, *err;

	if (size == 0)
		return 0;
	errsize = err_sizes[(data[0] >> 1) % (sizeof err_sizes / sizeof err_sizes[0])];
	n = strnlen((const char *)data + 1, size - 1);
	/* Exactly sized heap copies: ASan sees any read or write past them. */
	text = malloc(n + 1);
	err = malloc(errsize);
	ENSURE(text != NULL && err != NULL);
	memcpy(text, data + 1, n);
	text[n] = '\0';
	if (data[0] & 1)
		check_if_match(text, err, errsize);
	else
		check_list_query(text, err, errsize);
	free(text);
	free(err);
	return 0;
}
