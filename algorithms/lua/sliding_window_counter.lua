-- sliding_window_counter -- the Redis twin of algorithms/sliding_window_counter.c.
-- State: w = index of the current window, c = its cost, p = the previous one's.
local limit, w = v[1], v[2]
local idx = fdiv(now, w)
local st = redis.call('HMGET', key, 'w', 'c', 'p')
local win, cur, prev = idx, 0, 0
if st[1] then
  win, cur, prev = tonumber(st[1]), tonumber(st[2]), tonumber(st[3])
  if idx == win + 1 then win, cur, prev = idx, 0, cur
  elseif idx > win then win, cur, prev = idx, 0, 0 end
end
local m = now - win * w
if m < 0 then m = 0 end
local weighted = prev * (w - m) + cur * w

if cost == 0 then return { fdiv(weighted, w) } end
local function remaining(wt)
  if wt >= limit * w then return 0 end
  return fdiv(limit * w - wt, w)
end

if weighted + cost * w <= limit * w then
  cur = cur + cost
  save('w', win, 'c', cur, 'p', prev)
  return { 1, remaining(weighted + cost * w), 0, 0 }
end
save('w', win, 'c', cur, 'p', prev)
local retry
if cost > limit then
  retry = RETRY_NEVER
elseif cur + cost <= limit then
  retry = (w - fdiv((limit - cur - cost) * w, prev)) - m
else
  retry = (w - m) + (w - fdiv((limit - cost) * w, cur))
end
return { 0, remaining(weighted), retry, 0 }
