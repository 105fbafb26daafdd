-- tests/bench/put_alternate.lua - wrk: PUT two requests alternately, each a row's id and full body.
-- BENCH_PUT_A / BENCH_PUT_B are "ID BODY": the row's id, a space, its JSON body.  The main phase moves the
-- default between two rows (is_default:true on each); the scale phase changes one field of one row back and forth.
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
