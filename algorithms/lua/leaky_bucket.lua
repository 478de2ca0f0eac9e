-- leaky_bucket -- the Redis twin of algorithms/leaky_bucket.c.
-- queue: '<dd' = the last departure, u + r / rate microseconds.
-- meter: '<dd' = excess (units of 1/unit request), time of the last admitted request.
local rate, mode, unit = cfg(0), cfg(2), cfg(3)
local limit = cfg(1) * unit

local function count_fitting(first)
  if first > limit then return 0 end
  return 1 + fdiv(limit - first, unit)
end

if mode == 1 then
  local excess, last = load('<dd')
  if cost == 0 then
    if not excess then return { 0 } end
    return { fdiv(drain(excess, rate, now - last), unit) }
  end
  if not excess then
    store('<dd', 0, now)
    return { 1, count_fitting(unit), 0, 0 }
  end
  local e2 = drain(excess + cost * unit, rate, now - last)
  if e2 <= limit then
    if now > last then last = now end
    store('<dd', e2, last)
    return { 1, count_fitting(e2 + unit), 0, 0 }
  end
  return { 0, count_fitting(drain(excess + unit, rate, now - last)), cdiv(e2 - limit, rate), 0 }
end

local lu, lr = load('<dd')
if cost == 0 then
  if not lu or lu < now then return { 0 } end
  return { cdiv(ahead(lu, lr, now, rate), unit) }
end
local function departure(c)
  local du, dr = add_intervals(lu, lr, c, rate, unit)
  if du < now then du, dr = now, 0 end
  return du, dr
end
local du, dr
if not lu then du, dr = now, 0 else du, dr = departure(cost) end
local wait = ahead(du, dr, now, rate)
if wait <= limit then
  store('<dd', du, dr)
  return { 1, count_fitting(wait + unit), 0, cdiv(wait, rate) }
end
local fu, fr = departure(1)
return { 0, count_fitting(ahead(fu, fr, now, rate)), cdiv(wait - limit, rate), 0 }
