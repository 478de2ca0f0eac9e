-- queue_take.lua -- a consumer run: up to ARGV[1] messages from the head of
-- the ready list into this consumer's processing list (LMOVE), each with a
-- lease stamped with the server's time, so that the reaper can tell how
-- long it has been out. Move and lease are one step: a consumer killed
-- right after it leaves nothing the reaper cannot see.
-- KEYS[1] ready  KEYS[2] processing:<cid>  KEYS[3] lease:<cid>
-- KEYS[4] consumers (set)  KEYS[5] stats (hash)
-- ARGV[1] how many  ARGV[2] cid  ARGV[3] run start (µs, server clock)
-- Reply: the messages taken, oldest first.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('SADD', KEYS[4], ARGV[2])
local taken = {}
for _ = 1, tonumber(ARGV[1]) do
  local m = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
  if not m then break end
  redis.call('HSET', KEYS[3], m, string.format('%.0f', now))
  taken[#taken + 1] = m
end
if #taken > 0 then
  redis.call('HINCRBY', KEYS[5], 'deliveries', #taken)
  local second = math.floor((now - tonumber(ARGV[3])) / 1000000)
  if second >= 0 then redis.call('HINCRBY', KEYS[5], 's:' .. string.format('%d', second), #taken) end
end
return taken
