-- Posts pre-signed webhook bodies, each at most once, and counts answers by status code.
-- BODIES: a file of "<X-Hub-Signature-256>\t<json body>" lines.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local total = tonumber(os.getenv("WRK_THREADS") or "1")
  bodies = {}
  local n = 0
  for line in io.lines(os.getenv("BODIES")) do
    if n % total == id then
      local tab = string.find(line, "\t", 1, true)
      table.insert(bodies, { string.sub(line, 1, tab - 1), string.sub(line, tab + 1) })
    end
    n = n + 1
  end
  index = 0
  ok = 0
  other = 0
  exhausted = 0
end

function request()
  index = index + 1
  local item = bodies[index]
  if item == nil then
    exhausted = exhausted + 1
    item = bodies[1]
  end
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json", ["X-Hub-Signature-256"] = item[1] }, item[2])
end

-- WRK_DELAY_MS paces each connection (a connection waits this long before its next request): with c
-- connections the offered rate is about c * 1000 / WRK_DELAY_MS requests per second.
local pace = tonumber(os.getenv("WRK_DELAY_MS") or "0")
if pace > 0 then
  function delay()
    return pace
  end
end

function response(status, headers, body)
  if status == 200 then ok = ok + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local total_ok, total_other, total_sent, total_exhausted = 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    total_ok = total_ok + thread:get("ok")
    total_other = total_other + thread:get("other")
    total_sent = total_sent + thread:get("index")
    total_exhausted = total_exhausted + thread:get("exhausted")
  end
  io.write(string.format("RESULT ok=%d other=%d sent=%d exhausted=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    total_ok, total_other, total_sent, total_exhausted,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
