-- leaky_bucket -- the Redis twin of algorithms/leaky_bucket.c.
-- queue: '<dd' = the last departure, u + r / rate_m microseconds.
-- meter: '<dd' = excess (nano-requests), time of the last admitted request.
local rate, limit, mode = cfg(0), cfg(1) * UNIT, cfg(2)

local function count_fitting(first)
  if first > limit then return 0 end
  return 1 + fdiv(limit - first, UNIT)
end

if mode == 1 then
  local excess, last = load('<dd')
  if cost == 0 then
    if not excess then return { 0 } end
    return { fdiv(drain(excess, rate, now - last), UNIT) }
  end
  if not excess then
    store('<dd', 0, now)
    return { 1, count_fitting(UNIT), 0, 0 }
  end
  local e2 = drain(excess + cost * UNIT, rate, now - last)
  if e2 <= limit then
    if now > last then last = now end
    store('<dd', e2, last)
    return { 1, count_fitting(e2 + UNIT), 0, 0 }
  end
  return { 0, count_fitting(drain(excess + UNIT, rate, now - last)), cdiv(e2 - limit, rate), 0 }
end

local lu, lr = load('<dd')
if cost == 0 then
  if not lu or lu < now then return { 0 } end
  return { cdiv(ahead(lu, lr, now, rate), UNIT) }
end
local function departure(c)
  local du, dr = add_intervals(lu, lr, c, rate)
  if du < now then du, dr = now, 0 end
  return du, dr
end
local du, dr
if not lu then du, dr = now, 0 else du, dr = departure(cost) end
local wait = ahead(du, dr, now, rate)
if wait <= limit then
  store('<dd', du, dr)
  return { 1, count_fitting(wait + UNIT), 0, cdiv(wait, rate) }
end
local fu, fr = departure(1)
return { 0, count_fitting(ahead(fu, fr, now, rate)), cdiv(wait - limit, rate), 0 }
