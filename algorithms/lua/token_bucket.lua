-- token_bucket -- the Redis twin of algorithms/token_bucket.c.
-- State: '<dd' = tokens (in units of 1/unit token), time of the last refill.
local rate, capacity, unit = cfg(0), cfg(1), cfg(3)
local tokens, last = load('<dd')
if not tokens then tokens, last = cfg(2), now end
tokens = fill(tokens, capacity, rate, now - last)
if cost == 0 then return { fdiv(tokens, unit) } end
if now > last then last = now end
if cost < 0 then  -- a delta admitted elsewhere: charged whatever is left (lim_ops.consume)
  store('<dd', tokens + cost * unit, last)
  return { 0 }
end

local allowed, retry = 0, 0
if cost > fdiv(capacity, unit) then
  retry = RETRY_NEVER
elseif tokens >= cost * unit then
  tokens = tokens - cost * unit
  allowed = 1
else
  retry = cdiv(cost * unit - tokens, rate)
end
store('<dd', tokens, last)
return { allowed, fdiv(tokens, unit), retry, 0 }
