-- gcra -- the Redis twin of algorithms/gcra.c.
-- State: '<dd' = the theoretical arrival time, u + r / rate_m microseconds.
local rate, burst = cfg(0), cfg(1)
local limit = burst * UNIT
local tu, tr = load('<dd')
local known = tu ~= nil
if not known then tu, tr = now, 0 end

local bu, br = tu, tr
if tu < now then bu, br = now, 0 end
if cost == 0 then
  if not known then return { burst } end
  return { fdiv(limit - ahead(bu, br, now, rate), UNIT) }
end
local nu, nr = add_intervals(bu, br, cost, rate)
local a = ahead(nu, nr, now, rate)
if a <= limit then
  store('<dd', nu, nr)
  return { 1, fdiv(limit - a, UNIT), 0, 0 }
end
if not known then store('<dd', tu, tr) end
local retry = RETRY_NEVER
if cost <= burst then retry = cdiv(a - limit, rate) end
return { 0, fdiv(limit - ahead(bu, br, now, rate), UNIT), retry, 0 }
