-- queue_fail.lua -- a delivery failed, or the message cannot be read: out
-- of the processing list and its lease, and back at the tail of the ready
-- list with attempts + 1, or onto the dead-letter list (with the last
-- error). If the reaper gave it back already, its requeue stands and
-- nothing more happens.
-- KEYS[1] processing:<cid>  KEYS[2] lease:<cid>  KEYS[3] ready  KEYS[4] dead
-- KEYS[5] stats
-- ARGV[1] the message as taken  ARGV[2] what replaces it  ARGV[3] 1: dead letter
-- Reply: 1 moved, 0 no longer ours.
local removed = redis.call('LREM', KEYS[1], 1, ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
if removed == 0 then return 0 end
if ARGV[3] == '1' then
  redis.call('LPUSH', KEYS[4], ARGV[2])
  redis.call('HINCRBY', KEYS[5], 'dead', 1)
else
  redis.call('LPUSH', KEYS[3], ARGV[2])
  redis.call('HINCRBY', KEYS[5], 'retries', 1)
end
return 1
