-- token_bucket -- the Redis twin of algorithms/token_bucket.c.
-- State: '<dd' = tokens (in units of 1/unit token), time of the last refill.
local rate, capacity, unit = cfg(0), cfg(1), cfg(3)
local tokens, last = load('<dd')
local known = tokens ~= nil
if not known then tokens, last = cfg(2), now end
tokens = fill(tokens, capacity, rate, now - last)
if cost == 0 then return { fdiv(tokens, unit) } end
if now > last then last = now end
if cost < 0 then  -- a delta admitted elsewhere: charged whatever is left (lim_ops.consume)
  store('<dd', tokens + cost * unit, last)
  return { 0 }
end

local allowed, retry, need = 0, 0, cost * unit
if need > capacity then  -- cost > capacity / unit, without the division
  retry = RETRY_NEVER
elseif tokens >= need then
  tokens = tokens - need
  allowed = 1
else
  retry = cdiv(need - tokens, rate)
end
-- A refusal of a known bucket writes nothing: the refill is linear up to
-- the capacity, so refilling later from the stored (tokens, last) gives
-- what refilling from (tokens now, now) would. A new bucket is stored, as
-- its time starts now.
if allowed == 1 or not known then store('<dd', tokens, last) end
return { allowed, fdiv(tokens, unit), retry, 0 }
