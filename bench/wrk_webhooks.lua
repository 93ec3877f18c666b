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

-- WRK_RATE (requests per second, for this wrk thread) paces the load on a schedule: one request is due every
-- 1000 / WRK_RATE ms, and each request a connection is about to send takes the next free slot, whatever the
-- earlier answers took. The offered rate is WRK_RATE until the server cannot answer that fast. (Waiting a fixed
-- time after each answer offers only connections * 1000 / (wait + latency), well below the rate asked for.)
local rate = tonumber(os.getenv("WRK_RATE") or "0")
if rate > 0 then
  local ffi = require("ffi")
  ffi.cdef[[
    typedef struct { long tv_sec; long tv_usec; } pace_timeval;
    int gettimeofday(pace_timeval *tv, void *tz);
  ]]
  local tv = ffi.new("pace_timeval")
  local function now_ms()
    ffi.C.gettimeofday(tv, nil)
    return tonumber(tv.tv_sec) * 1000 + tonumber(tv.tv_usec) / 1000
  end
  local interval = 1000 / rate
  local next_slot = nil
  function delay()
    local now = now_ms()
    -- Never more than a second behind the schedule: a stalled server is not owed a burst afterwards.
    next_slot = math.max((next_slot or now) + interval, now - 1000)
    return math.max(0, next_slot - now)
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
