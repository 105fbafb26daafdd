-- tests/bench/put_default.lua - wrk: PUT is_default:true alternately on two rows, each with its full body.
-- BENCH_PUT_A / BENCH_PUT_B are "ID BODY": the row's id, a space, its JSON body as seeded.
dofile(os.getenv("BENCH_DIR") .. "/common.lua")

local requests, n = {}, 0

local function put(spec)
  local id, body = need(spec):match("^(%x+) (.+)$")
  return format("PUT", collection .. "/" .. id, body)
end

function init(args)
  requests = { put("BENCH_PUT_A"), put("BENCH_PUT_B") }
end

function request()
  n = n + 1
  return requests[n % 2 + 1]
end
