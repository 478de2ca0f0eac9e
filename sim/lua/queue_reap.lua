-- queue_reap.lua -- returns deliveries older than the visibility timeout:
-- a consumer that died (kill -9 between LMOVE and LREM) or hangs leaves
-- its processing list behind; each message in it whose lease is older than
-- ARGV[2] µs goes back to the head of the ready list with attempts + 1, or
-- to the dead letters when that was its last attempt (so a message that
-- kills every consumer cannot loop forever). A message that cannot be read
-- goes back as it is: the consumer dead-letters it with the reason.
-- KEYS[1] consumers (set)  KEYS[2] ready  KEYS[3] dead  KEYS[4] stats
-- ARGV[1] key prefix (processing:<cid> and lease:<cid> follow it; same slot)
-- ARGV[2] visibility timeout (µs)  ARGV[3] max_attempts
-- Reply: { returned, dead-lettered }
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local visibility, max_attempts = tonumber(ARGV[2]), tonumber(ARGV[3])
local returned, dead = 0, 0
for _, cid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local proc, lease = ARGV[1] .. 'processing:' .. cid, ARGV[1] .. 'lease:' .. cid
  local h = redis.call('HGETALL', lease)
  for i = 1, #h, 2 do
    local m, at = h[i], tonumber(h[i + 1])
    if now - at >= visibility then
      redis.call('HDEL', lease, m)
      if redis.call('LREM', proc, 1, m) == 1 then
        local ok, msg = pcall(cjson.decode, m)
        if ok and type(msg) == 'table' and type(msg.attempts) == 'number' then
          msg.attempts = msg.attempts + 1
          msg.last_error = 'visibility timeout: not acknowledged within ' .. ARGV[2] .. ' us'
          local again = cjson.encode(msg)
          if msg.attempts >= max_attempts then
            redis.call('LPUSH', KEYS[3], again)
            dead = dead + 1
          else
            redis.call('RPUSH', KEYS[2], again)
            returned = returned + 1
          end
        else
          redis.call('RPUSH', KEYS[2], m)
          returned = returned + 1
        end
      end
    end
  end
  -- a processing list with no lease left is one a dead consumer emptied
  if redis.call('HLEN', lease) == 0 and redis.call('LLEN', proc) == 0 then
    redis.call('SREM', KEYS[1], cid)
  end
end
if returned + dead > 0 then
  redis.call('HINCRBY', KEYS[4], 'reaped', returned + dead)
  redis.call('HINCRBY', KEYS[4], 'retries', returned)
  redis.call('HINCRBY', KEYS[4], 'dead', dead)
end
return { returned, dead }
