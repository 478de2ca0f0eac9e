-- leaky_bucket -- the Redis twin of algorithms/leaky_bucket.c.
-- queue: u, r = the last departure, u + r / rate_m microseconds.
-- meter: e = excess (nano-requests), l = time of the last admitted request.
local rate, limit, mode = v[1], v[2] * UNIT, v[3]

local function count_fitting(first)
  if first > limit then return 0 end
  return 1 + fdiv(limit - first, UNIT)
end

if mode == 1 then
  local st = redis.call('HMGET', key, 'e', 'l')
  if cost == 0 then
    if not st[1] then return { 0 } end
    return { fdiv(drain(tonumber(st[1]), rate, now - tonumber(st[2])), UNIT) }
  end
  if not st[1] then
    save('e', 0, 'l', now)
    return { 1, count_fitting(UNIT), 0, 0 }
  end
  local excess, last = tonumber(st[1]), tonumber(st[2])
  local e2 = drain(excess + cost * UNIT, rate, now - last)
  if e2 <= limit then
    if now > last then last = now end
    save('e', e2, 'l', last)
    return { 1, count_fitting(e2 + UNIT), 0, 0 }
  end
  return { 0, count_fitting(drain(excess + UNIT, rate, now - last)), cdiv(e2 - limit, rate), 0 }
end

local st = redis.call('HMGET', key, 'u', 'r')
if cost == 0 then
  if not st[1] or tonumber(st[1]) < now then return { 0 } end
  return { cdiv(ahead(tonumber(st[1]), tonumber(st[2]), now, rate), UNIT) }
end
local function departure(c)
  local du, dr = add_intervals(tonumber(st[1]), tonumber(st[2]), c, rate)
  if du < now then du, dr = now, 0 end
  return du, dr
end
local du, dr
if not st[1] then du, dr = now, 0 else du, dr = departure(cost) end
local wait = ahead(du, dr, now, rate)
if wait <= limit then
  save('u', du, 'r', dr)
  return { 1, count_fitting(wait + UNIT), 0, cdiv(wait, rate) }
end
local fu, fr = departure(1)
return { 0, count_fitting(ahead(fu, fr, now, rate)), cdiv(wait - limit, rate), 0 }
