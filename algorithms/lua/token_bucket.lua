-- token_bucket -- the Redis twin of algorithms/token_bucket.c.
-- State: '<dd' = tokens (nano-tokens), time of the last refill.
local rate, capacity = cfg(0), cfg(1)
local tokens, last = load('<dd')
if not tokens then tokens, last = cfg(2), now end
tokens = fill(tokens, capacity, rate, now - last)
if cost == 0 then return { fdiv(tokens, UNIT) } end
if now > last then last = now end

local need = cost * UNIT
local allowed, retry = 0, 0
if tokens >= need then
  tokens = tokens - need
  allowed = 1
elseif need > capacity then
  retry = RETRY_NEVER
else
  retry = cdiv(need - tokens, rate)
end
store('<dd', tokens, last)
return { allowed, fdiv(tokens, UNIT), retry, 0 }
