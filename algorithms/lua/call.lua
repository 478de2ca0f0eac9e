-- call.lua -- follows prelude.lua in every algorithm script: the one call's key,
-- time, cost, TTL and config (the convention described in prelude.lua), and
-- the opening of decide(). A chain (sim/lua/chain.lua) sets these up its own way.
local key = KEYS[1]
local now = tonumber(ARGV[1])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local cost = tonumber(ARGV[2])
local ttl = ARGV[3]
local RETRY_NEVER = -1

-- v[i] of the C config (0-based, as in lim_config.v)
local function cfg(i)
  local a = ARGV[4 + i]
  if a then return tonumber(a) end
  return 0
end

-- The state as packed doubles: one GET, one SET with the TTL.
local function load(fmt)
  local s = redis.call('GET', key)
  if not s then return nil end
  return struct.unpack(fmt, s)
end

local function store(fmt, ...)
  redis.call('SET', key, struct.pack(fmt, ...), 'PX', ttl)
end

local function decide()
