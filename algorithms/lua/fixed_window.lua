-- fixed_window -- the Redis twin of algorithms/fixed_window.c.
-- State: '<dd' = index of the current window, admitted cost in it.
local limit, w = cfg(0), cfg(1)
local idx = fdiv(now, w)
local win, count = load('<dd')
local known = win ~= nil
if not known or idx > win then win, count = idx, 0 end
if cost == 0 then return { count } end
if cost < 0 then  -- a delta admitted elsewhere: counted past the limit if need be (lim_ops.consume)
  store('<dd', win, count - cost)
  return { 0 }
end
if count + cost <= limit then
  count = count + cost
  store('<dd', win, count)
  return { 1, limit - count, 0, 0 }
end
if not known or count == 0 then store('<dd', win, count) end
local retry = RETRY_NEVER
if cost <= limit then retry = (win + 1) * w - now end
return { 0, limit - count, retry, 0 }
