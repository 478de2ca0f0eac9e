-- gcra -- the Redis twin of algorithms/gcra.c.
-- State: u, r = the theoretical arrival time, u + r / rate_m microseconds.
local rate, burst = v[1], v[2]
local limit = burst * UNIT
local st = redis.call('HMGET', key, 'u', 'r')
local tu, tr
if not st[1] then tu, tr = now, 0 else tu, tr = tonumber(st[1]), tonumber(st[2]) end

local bu, br = tu, tr
if tu < now then bu, br = now, 0 end
if cost == 0 then
  if not st[1] then return { burst } end
  return { fdiv(limit - ahead(bu, br, now, rate), UNIT) }
end
local nu, nr = add_intervals(bu, br, cost, rate)
local a = ahead(nu, nr, now, rate)
if a <= limit then
  save('u', nu, 'r', nr)
  return { 1, fdiv(limit - a, UNIT), 0, 0 }
end
if not st[1] then save('u', tu, 'r', tr) end
local retry = RETRY_NEVER
if cost <= burst then retry = cdiv(a - limit, rate) end
return { 0, fdiv(limit - ahead(bu, br, now, rate), UNIT), retry, 0 }
