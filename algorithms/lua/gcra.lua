-- gcra -- the Redis twin of algorithms/gcra.c.
-- State: '<dd' = the theoretical arrival time, u + r / rate microseconds.
local rate, burst, unit = cfg(0), cfg(1), cfg(2)
local limit = burst * unit
-- requests that fit: none when the tat is more than the limit ahead (gcra.c gcra_admissible)
local function admissible(a)
  if a >= limit then return 0 end
  return fdiv(limit - a, unit)
end
local tu, tr = load('<dd')
local known = tu ~= nil
if not known then tu, tr = now, 0 end

local bu, br = tu, tr
if tu < now then bu, br = now, 0 end
if cost == 0 then
  if not known then return { burst } end
  return { admissible(ahead(bu, br, now, rate)) }
end
if cost < 0 then  -- a delta admitted elsewhere: however far ahead it puts the tat (lim_ops.consume)
  store('<dd', add_intervals(bu, br, -cost, rate, unit))
  return { 0 }
end
if cost > burst then
  if not known then store('<dd', tu, tr) end
  return { 0, admissible(ahead(bu, br, now, rate)), RETRY_NEVER, 0 }
end
local nu, nr = add_intervals(bu, br, cost, rate, unit)
local a = ahead(nu, nr, now, rate)
if a <= limit then
  store('<dd', nu, nr)
  return { 1, admissible(a), 0, 0 }
end
if not known then store('<dd', tu, tr) end
return { 0, admissible(ahead(bu, br, now, rate)), cdiv(a - limit, rate), 0 }
