-- fixed_window -- the Redis twin of algorithms/fixed_window.c.
-- State: w = index of the current window, c = admitted cost in it.
local limit, w = v[1], v[2]
local idx = fdiv(now, w)
local st = redis.call('HMGET', key, 'w', 'c')
local win, count = idx, 0
if st[1] then
  win, count = tonumber(st[1]), tonumber(st[2])
  if idx > win then win, count = idx, 0 end
end
if cost == 0 then return { count } end
if count + cost <= limit then
  count = count + cost
  save('w', win, 'c', count)
  return { 1, limit - count, 0, 0 }
end
if not st[1] or tonumber(st[1]) ~= win then save('w', win, 'c', count) end
local retry = RETRY_NEVER
if cost <= limit then retry = (win + 1) * w - now end
return { 0, limit - count, retry, 0 }
