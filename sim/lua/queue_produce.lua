-- queue_produce.lua -- the producer's LPUSH, refused when the queue is full.
-- KEYS[1] ready list   ARGV[1] message   ARGV[2] max_queue (0: unbounded)
-- Reply: 1 queued, 0 full. One script so that the length check and the
-- push cannot be split by another producer.
local max = tonumber(ARGV[2])
if max > 0 and redis.call('LLEN', KEYS[1]) >= max then return 0 end
redis.call('LPUSH', KEYS[1], ARGV[1])
return 1
