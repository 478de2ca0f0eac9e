-- sliding_window_log -- the Redis twin of algorithms/sliding_window_log.c.
-- The log is the same ring as in C, kept in the key's hash: s = cost in the
-- log, h = sequence number of the oldest entry, n = the next one; field
-- "<seq>" holds "<time>,<cost>" of each entry still in the window.
local limit, w = cfg(0), cfg(1)
local st = redis.call('HMGET', key, 's', 'h', 'n')
local sum, head, nxt = 0, 0, 0
if st[1] then sum, head, nxt = tonumber(st[1]), tonumber(st[2]), tonumber(st[3]) end

local function entry(seq)
  local e = redis.call('HGET', key, seq)
  local comma = string.find(e, ',', 1, true)
  return tonumber(string.sub(e, 1, comma - 1)), tonumber(string.sub(e, comma + 1))
end

if cost == 0 then
  local level = 0
  for seq = head, nxt - 1 do
    local t, c = entry(seq)
    if t > now - w then level = level + c end
  end
  return { level }
end

local expired = head
while head < nxt do
  local t, c = entry(head)
  if t > now - w then break end
  sum = sum - c
  redis.call('HDEL', key, head)
  head = head + 1
end
expired = head > expired

if sum + cost <= limit then
  sum = sum + cost
  redis.call('HSET', key, nxt, string.format('%d,%d', now, cost), 's', sum, 'h', head, 'n', nxt + 1)
  redis.call('PEXPIRE', key, ttl)
  return { 1, limit - sum, 0, 0 }
end
-- A refusal that expired nothing leaves the log as it was: no write. Its
-- TTL needs no refresh either while the window is within it, since an
-- entry admitted since the last write keeps the key for a whole TTL.
if expired or not st[1] or w > tonumber(ttl) * 1000 then
  redis.call('HSET', key, 's', sum, 'h', head, 'n', nxt)
  redis.call('PEXPIRE', key, ttl)
end
if cost > limit then return { 0, limit - sum, RETRY_NEVER, 0 } end
local left = sum
for seq = head, nxt - 1 do
  local t, c = entry(seq)
  left = left - c
  if left + cost <= limit then return { 0, limit - sum, t + w - now, 0 } end
end
return { 0, limit - sum, 0, 0 }
