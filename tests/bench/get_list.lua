-- tests/bench/get_list.lua - wrk: GET the registry list.  BENCH_STOP_AFTER=N stops each thread after N responses.
dofile(os.getenv("BENCH_DIR") .. "/common.lua")

wrk.method = "GET"
wrk.path = collection
wrk.headers = headers

-- Only the memory phase defines response(): wrk parses bodies when it exists, which costs throughput.
local limit = tonumber(os.getenv("BENCH_STOP_AFTER") or "")
if limit then
  local seen = 0
  function response(status, headers, body)
    seen = seen + 1
    if seen >= limit then wrk.thread:stop() end
  end
end
