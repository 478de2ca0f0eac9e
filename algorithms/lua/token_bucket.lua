-- token_bucket -- the Redis twin of algorithms/token_bucket.c.
-- State: t = tokens (nano-tokens), l = time of the last refill.
local rate, capacity = v[1], v[2]
local st = redis.call('HMGET', key, 't', 'l')
local tokens, last
if not st[1] then
  tokens, last = v[3], now
else
  tokens, last = tonumber(st[1]), tonumber(st[2])
end
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
save('t', tokens, 'l', last)
return { allowed, fdiv(tokens, UNIT), retry, 0 }
