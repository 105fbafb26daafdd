-- tests/bench/get_page.lua - wrk: GET one filtered page of the registry list, BENCH_QUERY (a query string without '?').
dofile(os.getenv("BENCH_DIR") .. "/common.lua")

wrk.method = "GET"
wrk.path = collection .. "?" .. need("BENCH_QUERY")
wrk.headers = headers
