-- tests/bench/common.lua - what every benchmark script shares: the path, the bearer token, request building.
-- wrk loads the script into each thread's own Lua state, so everything here is per thread.
collection = "/openapi/system/registry"
headers = { ["Content-Type"] = "application/json" }
if os.getenv("BENCH_TOKEN") then
  headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
end

-- An environment variable run.sh must set.
function need(name)
  local v = os.getenv(name)
  if v == nil or v == "" then error(name .. " is not set") end
  return v
end

-- One raw request.  Call it from init() or later: wrk.host (for the Host header) is not known while the
-- script loads.  wrk.format writes Host and Content-Length into the table it gets, hence the copy.
function format(method, path, body)
  local h = {}
  for k, v in pairs(headers) do h[k] = v end
  return wrk.format(method, path, h, body)
end
