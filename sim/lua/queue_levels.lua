-- queue_levels.lua -- one consistent look at the queue: waiting, being
-- processed (every consumer's processing list), and the running counts.
-- KEYS[1] ready  KEYS[2] consumers  KEYS[3] dead  KEYS[4] stats
-- ARGV[1] key prefix
-- Reply: { queued, processing, dead, deliveries, succeeded, retries, duplicates, reaped }
local processing = 0
for _, cid in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  processing = processing + redis.call('LLEN', ARGV[1] .. 'processing:' .. cid)
end
local s = redis.call('HMGET', KEYS[4], 'deliveries', 'succeeded', 'retries', 'duplicates', 'reaped')
local reply = { redis.call('LLEN', KEYS[1]), processing, redis.call('LLEN', KEYS[3]) }
for i = 1, 5 do reply[#reply + 1] = tonumber(s[i] or 0) end
return reply
