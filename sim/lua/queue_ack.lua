-- queue_ack.lua -- a delivery succeeded: out of the processing list (LREM)
-- and its lease, and the success recorded by id. A message the reaper had
-- already given back is still a success (the downstream did the work), and
-- its next delivery will be counted as a duplicate: at-least-once, never
-- hidden.
-- The effect ledger: the first success of an id applies its effect (the
-- message's cost added to its key's balance) and logs it under the id, in
-- this same atomic step; a duplicate applies nothing, and is counted as
-- suppressed. So each message's effect happens exactly once.
-- KEYS[1] processing:<cid>  KEYS[2] lease:<cid>  KEYS[3] done (hash id -> successes)
-- KEYS[4] e2e (hash id -> "e2e_us,done_us")  KEYS[5] stats
-- KEYS[6] balances (hash key -> balance)  KEYS[7] effects (hash id -> "cost,key")
-- ARGV[1] message  ARGV[2] id  ARGV[3] "e2e_us,done_us" (µs since the run start)
-- ARGV[4] the message's key  ARGV[5] its cost
-- Reply: { removed from processing (0/1), successes of this id so far }
local removed = redis.call('LREM', KEYS[1], 1, ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
local n = redis.call('HINCRBY', KEYS[3], ARGV[2], 1)
if n == 1 then
  redis.call('HSET', KEYS[4], ARGV[2], ARGV[3])
  redis.call('HINCRBY', KEYS[5], 'succeeded', 1)
  redis.call('HINCRBY', KEYS[6], ARGV[4], ARGV[5])
  redis.call('HSET', KEYS[7], ARGV[2], ARGV[5] .. ',' .. ARGV[4])
else
  redis.call('HINCRBY', KEYS[5], 'duplicates', 1)
  redis.call('HINCRBY', KEYS[5], 'effects_suppressed', 1)
end
return { removed, n }
