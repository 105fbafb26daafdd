-- tests/bench/post_delete.lua - wrk: POST a registry, then DELETE it by the id the POST returned.
-- Each thread keeps its own queue of created ids: a connection that is ready deletes the oldest
-- waiting id, or creates one when none waits.  POSTs still in flight when wrk stops leave rows
-- behind; run.sh deletes every row it did not seed after each run.
dofile(os.getenv("BENCH_DIR") .. "/common.lua")

local post
local queue, head, tail = {}, 1, 0

function init(args)
  post = format("POST", collection,
    '{"address":"https://bench-tmp.example.com","provider":"native","namespace":"bench",' ..
    '"region":"","is_default":false,"enable_tls":false}')
end

function request()
  if head <= tail then
    local id = queue[head]
    queue[head] = nil
    head = head + 1
    return format("DELETE", collection .. "/" .. id)
  end
  return post
end

function response(status, headers, body)
  local id = body:match('"registry_id"%s*:%s*"(%x+)"')
  if id then
    tail = tail + 1
    queue[tail] = id
  end
end
