-- tests/bench/get_one.lua - wrk: GET one registry, BENCH_ID.
dofile(os.getenv("BENCH_DIR") .. "/common.lua")

wrk.method = "GET"
wrk.path = collection .. "/" .. need("BENCH_ID")
wrk.headers = headers
