-- sliding_window_counter -- the Redis twin of algorithms/sliding_window_counter.c.
-- State: '<ddd' = index of the current window, its cost, the previous one's.
local limit, w = cfg(0), cfg(1)
local idx = fdiv(now, w)
local win, cur, prev = load('<ddd')
local stored = win
if not win then
  win, cur, prev = idx, 0, 0
elseif idx == win + 1 then
  win, cur, prev = idx, 0, cur
elseif idx > win then
  win, cur, prev = idx, 0, 0
end
local m = now - win * w
if m < 0 then m = 0 end
local weighted = prev * (w - m) + cur * w
if cost == 0 then return { fdiv(weighted, w) } end
if cost < 0 then  -- a delta admitted elsewhere: counted past the limit if need be (lim_ops.consume)
  store('<ddd', win, cur - cost, prev)
  return { 0 }
end

local function remaining(wt)
  if wt >= limit * w then return 0 end
  return fdiv(limit * w - wt, w)
end

if weighted + cost * w <= limit * w then
  cur = cur + cost
  store('<ddd', win, cur, prev)
  return { 1, remaining(weighted + cost * w), 0, 0 }
end
if win ~= stored then store('<ddd', win, cur, prev) end   -- a refusal in the same window changes nothing
local retry
if cost > limit then
  retry = RETRY_NEVER
elseif cur + cost <= limit then
  retry = (w - fdiv((limit - cur - cost) * w, prev)) - m
else
  retry = (w - m) + (w - fdiv((limit - cost) * w, cur))
end
return { 0, remaining(weighted), retry, 0 }
